/* The decision rules of the seed's claims, as a state machine; see decide.h.
 *
 *   not trusted yet      → pending/awaiting-trust, the helper asked again with backoff
 *   local hit            → connect/known, then confirm with a claim
 *   local miss           → look up remotely
 *     unbound            → claim → 201/200 connect/new-binding, 409 keep-existing/race-lost
 *     bound-to-you       → connect/restored (and repair the store)
 *     bound-to-other     → keep-existing/bound-elsewhere
 *     failure            → pending/registry-unreachable once, retry with backoff
 *     401                → pending/account-refused, retry with backoff
 *   confirm 409          → keep-existing/revoked, drop the local record
 *   renewal due          → connected and settled: the confirming claim again
 *   Retry                → the checks again, after a claim in flight is answered
 *   Forget               → after any call in flight is answered: release
 *     204/404            → released/forgotten
 *     403                → keep-existing/bound-elsewhere
 *     certainly not done → back to where it stood, nothing announced
 *     answer lost        → pending/releasing until the registry settles it
 */
#include "decide.h"

static void announce(struct decide_state *state, struct decide_output *out, enum decision decision,
                     enum reason reason)
{
  state->decision = decision;
  state->reason = reason;
  out->announce = true;
}

static void settle(struct decide_state *state, struct decide_output *out, enum decision decision,
                   enum reason reason)
{
  state->phase = PHASE_SETTLED;
  out->actions |= ACTION_RESET_BACKOFF;
  announce(state, out, decision, reason);
}

/* "pending" is said once per wait, however many retries fail. */
static void fail_remote(struct decide_state *state, struct decide_output *out,
                        enum decide_phase waiting)
{
  state->phase = waiting;
  out->actions |= ACTION_SCHEDULE_RETRY;
  if (waiting == PHASE_WAITING && state->decision != DECISION_PENDING)
    announce(state, out, DECISION_PENDING, REASON_REGISTRY_UNREACHABLE);
}

/* A refused token: whatever was decided, no binding can be vouched for
 * until the account is accepted again. The whole check runs again then. */
static void refused(struct decide_state *state, struct decide_output *out)
{
  state->phase = PHASE_WAITING;
  out->actions |= ACTION_SCHEDULE_RETRY;
  if (state->decision != DECISION_PENDING || state->reason != REASON_ACCOUNT_REFUSED)
    announce(state, out, DECISION_PENDING, REASON_ACCOUNT_REFUSED);
}

static bool in_flight(enum decide_phase phase)
{
  return phase == PHASE_LOOKING_UP || phase == PHASE_CLAIMING || phase == PHASE_CONFIRMING;
}

/* Where a terminal rests when its call is not made after all. */
static enum decide_phase resting(enum decide_phase phase)
{
  if (phase == PHASE_LOOKING_UP || phase == PHASE_CLAIMING)
    return PHASE_WAITING;
  if (phase == PHASE_CONFIRMING)
    return PHASE_CONFIRM_WAITING;
  return phase;
}

static void begin_release(struct decide_state *state, struct decide_output *out)
{
  state->forget_wanted = false;
  state->recheck_wanted = false; /* the Forget came later: it wins */
  state->resume = resting(state->phase);
  state->phase = PHASE_RELEASING;
  out->actions &= ~(unsigned)(ACTION_LOOKUP | ACTION_CLAIM | ACTION_SCHEDULE_RETRY);
  out->actions |= ACTION_CANCEL_RETRY | ACTION_RELEASE;
}

/* Forget never cuts a call short: a request already sent would land
 * after the DELETE. It waits for the answer (see decide_step). */
static void forget(struct decide_state *state, struct decide_output *out)
{
  if (state->phase == PHASE_RELEASING || state->phase == PHASE_IDENTIFYING)
    return;
  if (in_flight(state->phase))
    state->forget_wanted = true;
  else
    begin_release(state, out);
}

/* A claim already sent would land after whatever the new check decides
 * (a keep-existing, say): it is waited for. A lookup changes nothing and
 * may be dropped. */
static void recheck(struct decide_state *state, struct decide_output *out)
{
  if (state->phase == PHASE_RELEASING)
    return;
  if (state->phase == PHASE_CLAIMING || state->phase == PHASE_CONFIRMING) {
    state->recheck_wanted = true;
    return;
  }
  state->recheck_wanted = false;
  out->actions &= ~(unsigned)(ACTION_LOOKUP | ACTION_CLAIM | ACTION_SCHEDULE_RETRY);
  out->actions |= ACTION_CANCEL_RETRY | ACTION_RECHECK;
}

static void step_identifying(struct decide_state *state, enum decide_input input,
                             struct decide_output *out)
{
  switch (input) {
  case INPUT_NO_IDENTIFIER:
    settle(state, out, DECISION_UNIDENTIFIED, REASON_NO_IDENTIFIER);
    break;
  case INPUT_AWAITING_TRUST:
    state->phase = PHASE_AWAITING_TRUST;
    out->actions |= ACTION_SCHEDULE_RETRY;
    if (state->decision != DECISION_PENDING || state->reason != REASON_AWAITING_TRUST)
      announce(state, out, DECISION_PENDING, REASON_AWAITING_TRUST);
    break;
  case INPUT_LOCAL_HIT:
    state->phase = PHASE_CONFIRMING;
    out->actions |= ACTION_CLAIM;
    announce(state, out, DECISION_CONNECT, REASON_KNOWN);
    break;
  case INPUT_LOCAL_MISS:
    state->phase = PHASE_LOOKING_UP;
    out->actions |= ACTION_LOOKUP;
    break;
  case INPUT_RELEASE_PENDING:
    state->phase = PHASE_RELEASING;
    state->resume = PHASE_SETTLED;
    announce(state, out, DECISION_PENDING, REASON_RELEASING);
    break;
  default:
    break;
  }
}

/* Answers common to every call in flight. */
static void step_call_common(struct decide_state *state, enum decide_input input,
                             struct decide_output *out)
{
  switch (input) {
  case INPUT_REMOTE_FAILED:
    fail_remote(state, out, resting(state->phase));
    break;
  case INPUT_REMOTE_REFUSED:
    refused(state, out);
    break;
  case INPUT_CLAIM_STALE: /* a claim's: the sequence moved above it */
    if (state->phase != PHASE_LOOKING_UP)
      out->actions |= ACTION_CLAIM;
    break;
  case INPUT_NO_ACCOUNT:
    state->resume = state->phase;
    state->phase = PHASE_AWAITING_ACCOUNT;
    break;
  default:
    break;
  }
}

static void step_looking_up(struct decide_state *state, enum decide_input input,
                            struct decide_output *out)
{
  switch (input) {
  case INPUT_REMOTE_UNBOUND:
    state->phase = PHASE_CLAIMING;
    out->actions |= ACTION_CLAIM;
    break;
  case INPUT_REMOTE_BOUND_TO_YOU:
    out->actions |= ACTION_RECORD_LOCAL;
    settle(state, out, DECISION_CONNECT, REASON_RESTORED);
    break;
  case INPUT_REMOTE_BOUND_TO_OTHER:
    settle(state, out, DECISION_KEEP_EXISTING, REASON_BOUND_ELSEWHERE);
    break;
  default:
    step_call_common(state, input, out);
  }
}

static void step_claiming(struct decide_state *state, enum decide_input input,
                          struct decide_output *out)
{
  switch (input) {
  case INPUT_CLAIM_BOUND:
    out->actions |= ACTION_RECORD_LOCAL;
    settle(state, out, DECISION_CONNECT, REASON_NEW_BINDING);
    break;
  case INPUT_CLAIM_RENEWED: /* it was ours after all (a lost local record) */
    out->actions |= ACTION_RECORD_LOCAL;
    settle(state, out, DECISION_CONNECT, REASON_RESTORED);
    break;
  case INPUT_CLAIM_CONFLICT:
    settle(state, out, DECISION_KEEP_EXISTING, REASON_RACE_LOST);
    break;
  default:
    step_call_common(state, input, out);
  }
}

/* The local decision stands while the registry agrees or cannot say. */
static void step_confirming(struct decide_state *state, enum decide_input input,
                            struct decide_output *out)
{
  switch (input) {
  case INPUT_CLAIM_BOUND:
  case INPUT_CLAIM_RENEWED:
    state->phase = PHASE_SETTLED;
    out->actions |= ACTION_RESET_BACKOFF;
    break;
  case INPUT_CLAIM_CONFLICT:
    out->actions |= ACTION_DROP_LOCAL;
    settle(state, out, DECISION_KEEP_EXISTING, REASON_REVOKED);
    break;
  default:
    step_call_common(state, input, out);
  }
}

static void step_waiting(struct decide_state *state, enum decide_input input,
                         struct decide_output *out)
{
  if (input != INPUT_RETRY_DUE)
    return;
  if (state->phase == PHASE_AWAITING_TRUST) {
    state->phase = PHASE_IDENTIFYING;
    out->actions |= ACTION_IDENTIFY;
  } else if (state->phase == PHASE_WAITING) {
    state->phase = PHASE_LOOKING_UP;
    out->actions |= ACTION_LOOKUP;
  } else {
    state->phase = PHASE_CONFIRMING;
    out->actions |= ACTION_CLAIM;
  }
}

static void step_in_phase(struct decide_state *state, enum decide_input input,
                          struct decide_output *out);

/* Renewal is the confirming claim again: 200 says nothing, 409 (the
 * binding lapsed and another took it) is keep-existing/revoked. */
static void step_settled(struct decide_state *state, enum decide_input input,
                         struct decide_output *out)
{
  if (input == INPUT_RENEW_DUE && state->decision == DECISION_CONNECT) {
    state->phase = PHASE_CONFIRMING;
    out->actions |= ACTION_CLAIM;
  }
}

static void step_awaiting_account(struct decide_state *state, enum decide_input input,
                                  struct decide_output *out)
{
  if (input == INPUT_ACCOUNT_READY) {
    state->phase = state->resume;
    out->actions |= state->phase == PHASE_LOOKING_UP ? ACTION_LOOKUP : ACTION_CLAIM;
  } else if (input == INPUT_REMOTE_FAILED) { /* no account to be had for now */
    state->phase = state->resume;
    step_in_phase(state, input, out);
  }
}

static void step_releasing(struct decide_state *state, enum decide_input input,
                           struct decide_output *out)
{
  bool unconfirmed = state->decision == DECISION_PENDING && state->reason == REASON_RELEASING;

  switch (input) {
  case INPUT_RELEASED:
  case INPUT_RELEASE_DROPPED: /* the new account holds nothing: as asked */
    settle(state, out, DECISION_RELEASED, REASON_FORGOTTEN);
    break;
  case INPUT_RELEASE_TAKEN:
    settle(state, out, DECISION_KEEP_EXISTING, REASON_BOUND_ELSEWHERE);
    break;
  case INPUT_RELEASE_NOT_DONE: /* nothing changed: as before the Forget */
    if (unconfirmed)
      break;
    state->phase = state->resume;
    if (state->phase == PHASE_WAITING || state->phase == PHASE_CONFIRM_WAITING)
      out->actions |= ACTION_SCHEDULE_RETRY;
    break;
  case INPUT_RELEASE_UNCONFIRMED:
    if (!unconfirmed)
      announce(state, out, DECISION_PENDING, REASON_RELEASING);
    break;
  default:
    break;
  }
}

static void step_in_phase(struct decide_state *state, enum decide_input input,
                          struct decide_output *out)
{
  switch (state->phase) {
  case PHASE_IDENTIFYING:
    step_identifying(state, input, out);
    break;
  case PHASE_LOOKING_UP:
    step_looking_up(state, input, out);
    break;
  case PHASE_CLAIMING:
    step_claiming(state, input, out);
    break;
  case PHASE_CONFIRMING:
    step_confirming(state, input, out);
    break;
  case PHASE_WAITING:
  case PHASE_CONFIRM_WAITING:
  case PHASE_AWAITING_TRUST:
    step_waiting(state, input, out);
    break;
  case PHASE_AWAITING_ACCOUNT:
    step_awaiting_account(state, input, out);
    break;
  case PHASE_RELEASING:
    step_releasing(state, input, out);
    break;
  case PHASE_SETTLED:
    step_settled(state, input, out);
    break;
  }
}

void decide_init(struct decide_state *state)
{
  *state = (struct decide_state){.phase = PHASE_IDENTIFYING};
}

void decide_step(struct decide_state *state, enum decide_input input, struct decide_output *out)
{
  bool resting;

  *out = (struct decide_output){0};
  if (input == INPUT_FORGET) {
    forget(state, out);
    return;
  }
  if (input == INPUT_RECHECK) {
    recheck(state, out);
    return;
  }
  step_in_phase(state, input, out);
  /* A Forget or a Retry waited for this answer: now, instead of going on. */
  resting = !in_flight(state->phase) || out->actions & (ACTION_LOOKUP | ACTION_CLAIM);
  if (state->forget_wanted && resting)
    begin_release(state, out);
  else if (state->recheck_wanted && resting)
    recheck(state, out);
}

bool decide_is_releasing(const struct decide_state *state)
{
  return state->phase == PHASE_RELEASING;
}

const char *decision_name(enum decision decision)
{
  static const char *const names[] = {
    [DECISION_NONE] = "",
    [DECISION_CONNECT] = "connect",
    [DECISION_KEEP_EXISTING] = "keep-existing",
    [DECISION_PENDING] = "pending",
    [DECISION_UNIDENTIFIED] = "unidentified",
    [DECISION_RELEASED] = "released",
  };
  return names[decision];
}

const char *reason_name(enum reason reason)
{
  static const char *const names[] = {
    [REASON_NONE] = "",
    [REASON_KNOWN] = "known",
    [REASON_NEW_BINDING] = "new-binding",
    [REASON_RESTORED] = "restored",
    [REASON_BOUND_ELSEWHERE] = "bound-elsewhere",
    [REASON_RACE_LOST] = "race-lost",
    [REASON_REGISTRY_UNREACHABLE] = "registry-unreachable",
    [REASON_NO_IDENTIFIER] = "no-identifier",
    [REASON_FORGOTTEN] = "forgotten",
    [REASON_REVOKED] = "revoked",
    [REASON_ACCOUNT_REFUSED] = "account-refused",
    [REASON_RELEASING] = "releasing",
    [REASON_AWAITING_TRUST] = "awaiting-trust",
  };
  return names[reason];
}
