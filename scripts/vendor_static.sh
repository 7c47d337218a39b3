#!/bin/sh
# Copy the front-end packages installed by `npm ci` into the git-ignored static/vendor folder.
set -eu
dest=static/vendor
rm -rf "$dest" && mkdir -p "$dest/leaflet" "$dest/htmx" "$dest/echarts"
cp -r node_modules/leaflet/dist/. "$dest/leaflet/"
cp node_modules/htmx.org/dist/htmx.min.js "$dest/htmx/"
cp node_modules/echarts/dist/echarts.min.js "$dest/echarts/"
