/* The determination module: a pure state machine over one terminal. It
 * takes what the checks found and says what to announce and what to do
 * next; main loop glue carries out the actions. No I/O here, so every
 * path is tested by a table (tests/daemon/test_decide.c). */
#pragma once

#include <stdbool.h>

enum decision {
  DECISION_NONE, /* nothing announced yet */
  DECISION_CONNECT,
  DECISION_KEEP_EXISTING,
  DECISION_PENDING,
  DECISION_UNIDENTIFIED,
  DECISION_RELEASED,
};

enum reason {
  REASON_NONE,
  REASON_KNOWN,
  REASON_NEW_BINDING,
  REASON_RESTORED,
  REASON_BOUND_ELSEWHERE,
  REASON_RACE_LOST,
  REASON_REGISTRY_UNREACHABLE,
  REASON_NO_IDENTIFIER,
  REASON_FORGOTTEN,
  REASON_REVOKED,
  REASON_ACCOUNT_REFUSED, /* the registry refused this PC's token (401) */
  REASON_RELEASING,       /* a Forget's outcome is not known yet */
  REASON_AWAITING_TRUST,  /* the phone has not trusted this PC yet: its IMEI later */
};

/* What happened to the terminal. */
enum decide_input {
  INPUT_NO_IDENTIFIER,   /* identification found nothing usable */
  INPUT_AWAITING_TRUST,  /* the identity helper said: ask again later */
  INPUT_LOCAL_HIT,       /* the local store knows it */
  INPUT_LOCAL_MISS,      /* not in the store, or the store is unusable */
  INPUT_RELEASE_PENDING, /* instead of the local check: its release is unconfirmed */
  INPUT_REMOTE_UNBOUND,  /* registry lookup answers */
  INPUT_REMOTE_BOUND_TO_YOU,
  INPUT_REMOTE_BOUND_TO_OTHER,
  INPUT_REMOTE_FAILED,       /* unreachable, 5xx, garbage, or no account to be had */
  INPUT_REMOTE_REFUSED,      /* 401: the account's token was refused */
  INPUT_CLAIM_BOUND,         /* 201 */
  INPUT_CLAIM_RENEWED,       /* 200 */
  INPUT_CLAIM_CONFLICT,      /* 409 bound-to-other */
  INPUT_CLAIM_STALE,         /* 409 stale: the sequence moved above it; claim afresh */
  INPUT_NO_ACCOUNT,          /* a registry call must wait for the first account */
  INPUT_ACCOUNT_READY,       /* ... which is here now */
  INPUT_RETRY_DUE,           /* the backoff timer fired */
  INPUT_RECHECK,             /* Retry was called: the checks again from the start */
  INPUT_FORGET,              /* Forget was called */
  INPUT_RELEASED,            /* DELETE 204 or 404: the registry holds no binding of ours */
  INPUT_RELEASE_TAKEN,       /* DELETE 403: another client holds it */
  INPUT_RELEASE_NOT_DONE,    /* the first DELETE certainly did nothing */
  INPUT_RELEASE_UNCONFIRMED, /* the first DELETE's answer was lost */
  INPUT_RELEASE_DROPPED,     /* its account is gone: the new one holds nothing */
  INPUT_RENEW_DUE,           /* a connected phone's binding is due for renewal (binding-ttl) */
};

/* Where the terminal stands. */
enum decide_phase {
  PHASE_IDENTIFYING,
  PHASE_AWAITING_TRUST,   /* backoff before asking the identity helper again */
  PHASE_LOOKING_UP,       /* remote lookup in flight */
  PHASE_CLAIMING,         /* claim in flight after "unbound" */
  PHASE_CONFIRMING,       /* background claim after a local hit */
  PHASE_WAITING,          /* backoff before looking up again */
  PHASE_CONFIRM_WAITING,  /* backoff before confirming again */
  PHASE_AWAITING_ACCOUNT, /* the call of phase `resume` waits for the first account */
  PHASE_SETTLED,
  PHASE_RELEASING, /* a DELETE until the registry settles it: nothing is claimed */
};

/* Things to do, as bits of decide_output.actions. */
enum decide_action {
  ACTION_LOOKUP = 1 << 0,       /* ask the registry for the status */
  ACTION_CLAIM = 1 << 1,        /* PUT the binding */
  ACTION_RECORD_LOCAL = 1 << 2, /* write the binding to the store */
  ACTION_DROP_LOCAL = 1 << 3,   /* delete it from the store */
  ACTION_SCHEDULE_RETRY = 1 << 4,
  ACTION_RESET_BACKOFF = 1 << 5,
  ACTION_CANCEL_RETRY = 1 << 6, /* a scheduled retry must not run */
  ACTION_RELEASE = 1 << 7,      /* record the pending release, then DELETE */
  ACTION_RECHECK = 1 << 8,      /* start afresh: machine reset, then the local check */
  ACTION_IDENTIFY = 1 << 9,     /* ask the identity helper again */
};

struct decide_state {
  enum decide_phase phase;
  enum decision decision;
  enum reason reason;
  /* AWAITING_ACCOUNT: the phase whose call waits; RELEASING: the phase to
   * return to if the release certainly did nothing */
  enum decide_phase resume;
  bool forget_wanted;  /* Forget came while a call was in flight: after its answer */
  bool recheck_wanted; /* Retry came while a claim was in flight: after its answer */
};

struct decide_output {
  bool announce; /* emit one Decision signal with the state's decision */
  unsigned actions;
};

void decide_init(struct decide_state *state);
/* Applies one input; inputs that make no sense in the phase change nothing. */
void decide_step(struct decide_state *state, enum decide_input input, struct decide_output *out);
/* True while a DELETE's outcome is awaited: Forget and Retry are refused. */
bool decide_is_releasing(const struct decide_state *state);

const char *decision_name(enum decision decision);
const char *reason_name(enum reason reason);
