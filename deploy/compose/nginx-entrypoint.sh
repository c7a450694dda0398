#!/bin/sh
# As the official image: each /etc/nginx/templates/*.template, with the environment's
# variables filled in, becomes a file in /etc/nginx/conf.d/; then nginx in the foreground.
set -eu
for template in /etc/nginx/templates/*.template; do
    [ -e "$template" ] || continue
    name=$(basename "$template" .template)
    envsubst "$(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/${\1}/p' | tr '\n' ' ')" \
        <"$template" >"/etc/nginx/conf.d/$name"
done
exec nginx -g 'daemon off;'
