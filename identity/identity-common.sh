#!/bin/sh
# Shared by phonebind's identity helpers (identity, identity-android,
# identity-ios); sourced, not run. POSIX sh: the helpers run wherever
# phonebindd does, with nothing but the tool that talks to the phone.
#
# What a helper answers (phonebindd(8), IDENTITY HELPER):
#   0   the IMEI, 15 digits with a valid Luhn check digit, as the one line
#       of standard output;
#   75  (EX_TEMPFAIL) not yet: the phone has not trusted this PC, or is
#       still connecting; ask again later;
#   69  (EX_UNAVAILABLE) the tool that talks to the phone is not installed;
#   1   no IMEI: a refusal, no such device, an answer that is no IMEI.
# The IMEI is personal data: it goes to standard output and nowhere else.
# Messages go to standard error, which phonebindd's journal keeps, so
# they name what happened and never carry the phone's answer itself.

EX_NOIMEI=1
EX_UNAVAILABLE=69
EX_TEMPFAIL=75

identity_say() {
  printf '%s: %s\n' "$identity_name" "$*" >&2
}

# --wait SECONDS: how long to wait for a phone that is still connecting,
# or for the person to accept the trust dialog, before answering "not yet".
identity_wait=2
identity_parse_args() {
  while [ $# -gt 0 ]; do
    case $1 in
      --wait)
        [ $# -ge 2 ] || set -- "$1" ''
        identity_wait=$2
        shift 2
        ;;
      --wait=*) identity_wait=${1#--wait=}; shift ;;
      *) identity_say "unknown argument: $1"; exit "$EX_NOIMEI" ;;
    esac
  done
  case $identity_wait in
    '' | *[!0-9]*) identity_say "--wait takes whole seconds"; exit "$EX_NOIMEI" ;;
  esac
}

identity_require() {
  command -v "$1" >/dev/null 2>&1 && return 0
  identity_say "$1 is not installed (package $2)"
  exit "$EX_UNAVAILABLE"
}

# True if $1 is 15 digits whose last is the Luhn check digit of the rest.
identity_imei_valid() {
  case $1 in
    '' | *[!0-9]*) return 1 ;;
  esac
  [ ${#1} -eq 15 ] || return 1
  rest=$1 sum=0 position=0
  while [ -n "$rest" ]; do
    tail=${rest#?}
    digit=${rest%"$tail"}
    rest=$tail
    position=$((position + 1))
    if [ $((position % 2)) -eq 0 ]; then
      digit=$((digit * 2))
      [ "$digit" -gt 9 ] && digit=$((digit - 9))
    fi
    sum=$((sum + digit))
  done
  [ $((sum % 10)) -eq 0 ]
}

# Answers with $1 if it is an IMEI, else says so (without the value).
identity_answer() {
  if identity_imei_valid "$1"; then
    printf '%s\n' "$1"
    exit 0
  fi
  identity_say "the phone's answer is not a valid IMEI"
  exit "$EX_NOIMEI"
}

# A tool's answer fit for the journal: its first line, at most 100
# characters, with any run of 8 or more digits masked (whatever the tool
# said, an IMEI in it stays out of the log).
identity_quote() {
  printf '%s\n' "$1" | sed -n '1{s/[0-9]\{8,\}/<digits>/g;s/^\(.\{100\}\).*/\1.../;p;}'
}
