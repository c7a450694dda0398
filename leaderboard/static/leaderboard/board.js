// The leaderboard screen, built on the public REST API only. No build step.

const PAGE_SIZE = 25;
const POLL_MS = 2000;

const canEdit = document.body.dataset.canEdit === "true";
const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
const $ = (id) => document.getElementById(id);

const state = { offset: 0, count: 0, order: [], detailsId: null, busy: false };

class ApiError extends Error {
  constructor(status, message, fields = {}) {
    super(message);
    this.status = status;
    this.fields = fields;
  }
}

async function api(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        ...(body !== undefined && { "Content-Type": "application/json" }),
        ...(method !== "GET" && { "X-CSRFToken": csrfToken }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "Cannot reach the server. Check your connection; the board keeps trying.");
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, explain(response.status, data), data);
  return data;
}

function explain(status, data) {
  if (status === 401 || status === 403) return "You are not signed in any more. Sign in again to edit.";
  if (status === 404) return "That user is not on the board any more.";
  if (status >= 500) return "The server ran into a problem. Try again in a moment.";
  if (typeof data.detail === "string") return data.detail;
  const messages = Object.entries(data).map(([field, errors]) => `${field}: ${[].concat(errors).join(" ")}`);
  return messages.join(" ") || `The request failed (${status}).`;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

function say(message) {
  $("status").textContent = message;
}

// --- The board -----------------------------------------------------------------------------

async function refresh() {
  const page = await api("GET", `/api/users/?limit=${PAGE_SIZE}&offset=${state.offset}`);
  if (page.results.length === 0 && state.offset > 0) {
    state.offset = Math.max(0, state.offset - PAGE_SIZE);
    return refresh();
  }
  state.count = page.count;
  render(page.results);
  if (state.detailsId !== null) await showDetails(state.detailsId, { focus: false });
}

function render(users) {
  const focused = document.activeElement?.dataset ?? {};
  const before = new Map(state.order.map((id, index) => [id, index]));
  const body = $("board").tBodies[0];
  body.replaceChildren(...users.map((user, index) => row(user, before.get(user.id), index)));
  state.order = users.map((user) => user.id);

  if (focused.id) body.querySelector(`[data-id="${focused.id}"][data-action="${focused.action}"]`)?.focus();
  $("empty").hidden = users.length > 0;
  const first = users.length ? state.offset + 1 : 0;
  $("range").textContent = `${first}–${state.offset + users.length} of ${state.count}`;
  $("previous").disabled = state.offset === 0;
  $("next").disabled = state.offset + PAGE_SIZE >= state.count;
}

function row(user, previousIndex, index) {
  const tr = document.createElement("tr");
  tr.dataset.userId = user.id;
  if (previousIndex !== undefined && previousIndex !== index) tr.classList.add("moved");
  tr.append(
    cell("rank", user.rank),
    cell("name", button(user.name, "name", user, `Show details of ${user.name}`)),
    cell("points", user.points),
  );
  if (canEdit) {
    tr.append(
      cell(
        "actions",
        button("+", "increment", user, `Add a point to ${user.name}`),
        button("−", "decrement", user, `Take a point from ${user.name}`),
        button("×", "delete", user, `Delete ${user.name}`),
      ),
    );
  }
  return tr;
}

function cell(className, ...content) {
  const td = document.createElement("td");
  td.className = className;
  td.append(...content.map((item) => (item instanceof Node ? item : String(item))));
  return td;
}

function button(text, action, user, label) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = text;
  element.className = action;
  element.dataset.id = user.id;
  element.dataset.action = action;
  element.dataset.name = user.name;
  element.setAttribute("aria-label", label);
  return element;
}

// --- Actions -------------------------------------------------------------------------------

async function act(action, id, name) {
  clearError();
  try {
    if (action === "name") return await showDetails(id, { focus: true });
    if (action === "delete") {
      if (!window.confirm(`Delete ${name}? They stay in the winners history.`)) return;
      await api("DELETE", `/api/users/${id}/`);
      if (state.detailsId === id) hideDetails();
      say(`Deleted ${name}.`);
    } else {
      const user = await api("POST", `/api/users/${id}/${action}/`, {});
      say(`${user.name} has ${user.points} points, rank ${user.rank}.`);
    }
    await refresh();
  } catch (error) {
    showError(error.message);
  }
}

async function showDetails(id, { focus }) {
  let user;
  try {
    user = await api("GET", `/api/users/${id}/`);
  } catch (error) {
    if (error.status === 404) return hideDetails();
    throw error;
  }
  state.detailsId = id;
  $("details-name").textContent = user.name;
  $("details-rank").textContent = user.rank;
  $("details-points").textContent = user.points;
  $("details-age").textContent = user.age;
  $("details-address").textContent = user.address || "—";
  $("details").hidden = false;
  if (focus) $("details").focus();
}

function hideDetails() {
  const id = state.detailsId;
  state.detailsId = null;
  $("details").hidden = true;
  document.querySelector(`button.name[data-id="${id}"]`)?.focus();
}

async function addUser(event) {
  event.preventDefault();
  const form = event.target;
  clearError();
  for (const field of ["name", "age", "address"]) $(`add-${field}-error`).textContent = "";
  const age = form.age.value.trim();
  const body = { name: form.name.value, age: age === "" ? null : Number(age), address: form.address.value };
  try {
    const user = await api("POST", "/api/users/", body);
    form.reset();
    form.name.focus();
    say(`Added ${user.name} at rank ${user.rank}.`);
    await refresh();
  } catch (error) {
    const fields = Object.entries(error.fields ?? {}).filter(([field]) => $(`add-${field}-error`));
    if (error.status === 400 && fields.length) {
      for (const [field, messages] of fields) $(`add-${field}-error`).textContent = [].concat(messages).join(" ");
      form.querySelector(`[name="${fields[0][0]}"]`).focus();
    } else {
      showError(error.message);
    }
  }
}

// --- Wiring --------------------------------------------------------------------------------

$("board").addEventListener("click", (event) => {
  const target = event.target.closest("button[data-action]");
  if (target) act(target.dataset.action, target.dataset.id, target.dataset.name);
});
$("previous").addEventListener("click", () => {
  state.offset = Math.max(0, state.offset - PAGE_SIZE);
  refresh().catch((error) => showError(error.message));
});
$("next").addEventListener("click", () => {
  state.offset += PAGE_SIZE;
  refresh().catch((error) => showError(error.message));
});
$("details-close").addEventListener("click", hideDetails);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && state.detailsId !== null) hideDetails();
});
$("add-form")?.addEventListener("submit", addUser);

// Other clients' changes appear within a couple of seconds.
async function poll() {
  if (!state.busy) {
    state.busy = true;
    try {
      await refresh();
      if ($("error").textContent.startsWith("Cannot reach")) clearError();
    } catch (error) {
      showError(error.message);
    } finally {
      state.busy = false;
    }
  }
  setTimeout(poll, POLL_MS);
}
poll();
