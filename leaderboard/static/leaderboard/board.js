// The leaderboard screen, built on the public REST API only. No build step.
//
// Three views, each at an address that can be bookmarked:
//   #/board (?search=<text>), #/around/<id>, #/groups and #/winners.

const PAGE_SIZE = 25;
const GROUPS_PAGE = 20;
const WINNERS_PAGE = 20;
const AROUND_SIZE = 5;
const POLL_MS = 2000;
const SEARCH_DELAY_MS = 250;

const canEdit = document.body.dataset.canEdit === "true";
const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
const $ = (id) => document.getElementById(id);

const state = {
  view: "board", // board | around | groups | winners
  offset: 0,
  count: 0,
  search: "",
  aroundId: null,
  order: [],
  detailsId: null,
  groupsOffset: 0,
  openGroups: new Set(),
  winnersOffset: 0,
  generation: 0, // bumped by every change of view or search; older answers are dropped
  busy: false,
};

// The answer to a GET, or null when the view or search changed while it was on its way.
async function fetchForView(path) {
  const generation = state.generation;
  const data = await api("GET", path);
  return generation === state.generation ? data : null;
}

const plural = (n, one, many) => `${n.toLocaleString()} ${n === 1 ? one : many}`;

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

function boardPath() {
  const page = `limit=${PAGE_SIZE}&offset=${state.offset}`;
  if (state.search) return `/api/users/?search=${encodeURIComponent(state.search)}&${page}`;
  return `/api/users/?${page}`;
}

async function refresh() {
  if (state.view === "groups") return refreshGroups();
  if (state.view === "winners") return refreshWinners();
  if (state.view === "around") return refreshAround();
  if (state.search.length === 1) {
    $("search-hint").textContent = "Type at least 2 letters to search.";
    $("search-hint").hidden = false;
    return;
  }
  $("search-hint").hidden = true;
  const page = await fetchForView(boardPath());
  if (!page) return;
  if (page.results.length === 0 && state.offset > 0) {
    state.offset = Math.max(0, state.offset - PAGE_SIZE);
    return refresh();
  }
  state.count = page.count;
  render(page.results);
  const first = page.results.length ? state.offset + 1 : 0;
  const what = state.search ? ` matching “${state.search}”` : "";
  $("range").textContent = `${first}–${state.offset + page.results.length} of ${state.count}${what}`;
  $("previous").disabled = state.offset === 0;
  $("next").disabled = state.offset + PAGE_SIZE >= state.count;
  $("empty").textContent = state.search ? `Nobody’s name contains “${state.search}”.` : "Nobody is on the board yet.";
  if (state.detailsId !== null) await showDetails(state.detailsId, { focus: false });
}

async function refreshAround() {
  let around;
  try {
    around = await fetchForView(`/api/users/${state.aroundId}/around/?size=${AROUND_SIZE}`);
  } catch (error) {
    if (error.status === 404) {
      showError("That user is not on the board any more.");
      return showView("board");
    }
    throw error;
  }
  if (!around) return;
  $("around-title").textContent = `Around ${around.user.name}, rank ${around.user.rank}`;
  render([...around.above, around.user, ...around.below]);
  $("board").tBodies[0].querySelector(`tr[data-user-id="${around.user.id}"]`)?.classList.add("me");
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
      say(`${user.name} has ${plural(user.points, "point", "points")}, rank ${user.rank}.`);
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
  $("details-around").href = `#/around/${user.id}`;
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

// --- By score ------------------------------------------------------------------------------

async function refreshGroups() {
  const page = await fetchForView(
    `/api/users/grouped-by-score/?limit=${GROUPS_PAGE}&offset=${state.groupsOffset}`,
  );
  if (!page) return;
  if (page.results.length === 0 && state.groupsOffset > 0) {
    state.groupsOffset = Math.max(0, state.groupsOffset - GROUPS_PAGE);
    return refreshGroups();
  }
  $("groups-list").replaceChildren(...page.results.map(group));
  $("groups-empty").hidden = page.results.length > 0;
  const first = page.results.length ? state.groupsOffset + 1 : 0;
  $("groups-range").textContent = `Scores ${first}–${state.groupsOffset + page.results.length} of ${page.count}`;
  $("groups-previous").disabled = state.groupsOffset === 0;
  $("groups-next").disabled = state.groupsOffset + GROUPS_PAGE >= page.count;
}

function group(score) {
  const details = document.createElement("details");
  details.dataset.points = score.points;
  details.open = state.openGroups.has(score.points);
  details.addEventListener("toggle", () => {
    if (details.open) state.openGroups.add(score.points);
    else state.openGroups.delete(score.points);
  });
  const summary = document.createElement("summary");
  const points = document.createElement("strong");
  points.textContent = plural(score.points, "point", "points");
  summary.append(
    points,
    ` — ${plural(score.count, "user", "users")}, average age ${score.average_age.toLocaleString()}`,
  );
  const list = document.createElement("ol");
  list.className = "members";
  for (const user of score.users) {
    const item = document.createElement("li");
    item.append(button(user.name, "name", user, `Show details of ${user.name}`));
    list.append(item);
  }
  details.append(summary, list);
  const more = score.count - score.users.length;
  if (more > 0) {
    const note = document.createElement("p");
    note.className = "hint";
    note.textContent = `and ${plural(more, "other", "others")}.`;
    details.append(note);
  }
  return details;
}

// --- Winners -------------------------------------------------------------------------------

const slotTime = (iso) =>
  new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });

async function refreshWinners() {
  const page = await fetchForView(`/api/winners/?limit=${WINNERS_PAGE}&offset=${state.winnersOffset}`);
  if (!page) return;
  const latest = state.winnersOffset === 0 ? page.results[0] : null;
  $("latest-winner").replaceChildren(...(latest ? latestWinner(latest) : []));
  $("winners-list").replaceChildren(...page.results.map(winnerItem));
  $("winners-empty").hidden = page.count > 0;
  const first = page.results.length ? state.winnersOffset + 1 : 0;
  $("winners-range").textContent = `${first}–${state.winnersOffset + page.results.length} of ${page.count}`;
  $("winners-previous").disabled = state.winnersOffset === 0;
  $("winners-next").disabled = state.winnersOffset + WINNERS_PAGE >= page.count;
}

function latestWinner(winner) {
  const label = document.createElement("p");
  label.className = "hint";
  label.textContent = "Latest winner";
  const name = document.createElement("p");
  name.className = "latest-name";
  name.textContent = winner.user.name;
  const detail = document.createElement("p");
  detail.textContent = `${plural(winner.points, "point", "points")}, slot of ${slotTime(winner.slot)}`;
  return [label, name, detail];
}

function winnerItem(winner) {
  const item = document.createElement("li");
  const time = document.createElement("time");
  time.dateTime = winner.slot;
  time.textContent = slotTime(winner.slot);
  const name = document.createElement("strong");
  name.textContent = winner.user.name;
  item.append(time, " ", name, ` with ${plural(winner.points, "point", "points")}`);
  return item;
}

// --- Views and addresses -------------------------------------------------------------------

function route() {
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const [view, id] = path.split("/");
  if (view === "around" && id) {
    state.aroundId = decodeURIComponent(id);
    return showView("around");
  }
  if (view === "groups" || view === "winners") return showView(view);
  const search = new URLSearchParams(query).get("search") ?? "";
  if (search !== state.search) state.offset = 0;
  state.search = search;
  $("search").value = search;
  showView("board");
}

function showView(view) {
  state.view = view;
  state.generation += 1;
  const board = view === "board" || view === "around";
  $("view-board").hidden = !board;
  $("view-groups").hidden = view !== "groups";
  $("view-winners").hidden = view !== "winners";
  $("search").hidden = view !== "board";
  $("around-title").hidden = view !== "around";
  $("back-to-board").hidden = view !== "around";
  $("board-pager").hidden = view === "around";
  $("search-hint").hidden = true;
  for (const link of document.querySelectorAll("nav.views a")) {
    if (link.dataset.view === (board ? "board" : view)) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  state.order = [];
  refreshNow();
}

function refreshNow() {
  refresh().catch((error) => showError(error.message));
}

let searchTimer;
$("search").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    const text = $("search").value.trim();
    // Replaced, not pushed: typing is not a trail of pages to go back through.
    history.replaceState(null, "", text ? `#/board?search=${encodeURIComponent(text)}` : "#/board");
    route();
  }, SEARCH_DELAY_MS);
});
window.addEventListener("hashchange", route);

// --- Wiring --------------------------------------------------------------------------------

for (const list of [$("board"), $("groups-list")]) {
  list.addEventListener("click", (event) => {
    const target = event.target.closest("button[data-action]");
    if (target) act(target.dataset.action, target.dataset.id, target.dataset.name);
  });
}
function pager(previous, next, key, size) {
  $(previous).addEventListener("click", () => {
    state[key] = Math.max(0, state[key] - size);
    state.generation += 1;
    refreshNow();
  });
  $(next).addEventListener("click", () => {
    state[key] += size;
    state.generation += 1;
    refreshNow();
  });
}
pager("previous", "next", "offset", PAGE_SIZE);
pager("groups-previous", "groups-next", "groupsOffset", GROUPS_PAGE);
pager("winners-previous", "winners-next", "winnersOffset", WINNERS_PAGE);
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
route();
setTimeout(poll, POLL_MS);
