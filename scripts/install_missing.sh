# Sourced by the scripts. install_missing PACKAGE...: installs the Debian packages of the list
# that are not installed yet (with sudo unless root). Returns: apt-get's status, 0 if none was
# missing.
install_missing() {
  local missing=() package sudo=
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  echo "installing: ${missing[*]}"
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
}
