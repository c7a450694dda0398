#!/bin/sh
# As the official image: RABBITMQ_DEFAULT_USER and RABBITMQ_DEFAULT_PASS, the AMQP listener
# on RABBITMQ_NODE_PORT; RABBITMQ_NODENAME and ERL_EPMD_PORT keep it apart from any other
# node on a shared host network (rabbitmq-diagnostics reads the same variables).
set -eu
cat >/etc/rabbitmq/rabbitmq.conf <<CONF
default_user = ${RABBITMQ_DEFAULT_USER:-guest}
default_pass = ${RABBITMQ_DEFAULT_PASS:-guest}
loopback_users = none
listeners.tcp.default = 127.0.0.1:${RABBITMQ_NODE_PORT:-5672}
CONF
exec rabbitmq-server
