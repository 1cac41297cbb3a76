#!/bin/sh
# examples.disk_usage: parameters arrive as environment variables (PARAM_<NAME>), never inside
# the text of this script, so whatever a rule puts in them is only data. Quote them.
set -eu

path="$PARAM_PATH"
threshold="$PARAM_THRESHOLD"

used=$(df -P -- "$path" | awk 'NR == 2 { sub("%", "", $5); print $5 }')
echo "{\"used_percent\": $used, \"threshold\": $threshold}"
if [ "$used" -ge "$threshold" ]; then
  echo "the filesystem holding $path is ${used}% full (threshold ${threshold}%)" >&2
  exit 1
fi
