# Sourced by the scripts. werror_on BUILD_DIR: turns -Dwerror=true on in a build directory
# that was configured without it (the project's default is off; its own builds warn as errors).
# Returns: meson configure's status, 0 if the directory had it already.
werror_on() {
  local value
  value=$(meson introspect "$1" --buildoptions |
          python3 -c 'import json, sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "werror"][0])')
  [ "$value" = True ] || meson configure "$1" -Dwerror=true >/dev/null
}
