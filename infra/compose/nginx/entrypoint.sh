#!/bin/sh
# Use the certificate mounted at /etc/nginx/tls (cert.pem, key.pem); without one, make
# a self-signed certificate for $TLS_SERVER_NAME (localhost by default) on first start,
# so that no private key is baked into the image.
set -eu
name="${TLS_SERVER_NAME:-localhost}"
if [ ! -s /etc/nginx/tls/cert.pem ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 365 \
        -subj "/CN=$name" -addext "subjectAltName=DNS:$name,IP:127.0.0.1" \
        -keyout /etc/nginx/tls/key.pem -out /etc/nginx/tls/cert.pem 2>/dev/null
    chmod 600 /etc/nginx/tls/key.pem
    echo "carnet-nginx: made a self-signed certificate for $name"
fi
exec nginx -g 'daemon off;'
