/* The decision rules of the seed's claims, as a state machine; see decide.h.
 *
 *   local hit            → connect/known, then confirm with a claim
 *   local miss           → look up remotely
 *     unbound            → claim → 201/200 connect/new-binding, 409 keep-existing/race-lost
 *     bound-to-you       → connect/restored (and repair the store)
 *     bound-to-other     → keep-existing/bound-elsewhere
 *     failure            → pending/registry-unreachable once, retry with backoff
 *   confirm 409          → keep-existing/revoked, drop the local record
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

static void step_identifying(struct decide_state *state, enum decide_input input,
                             struct decide_output *out)
{
  switch (input) {
  case INPUT_NO_IDENTIFIER:
    settle(state, out, DECISION_UNIDENTIFIED, REASON_NO_IDENTIFIER);
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
  case INPUT_REMOTE_FAILED:
    fail_remote(state, out, PHASE_WAITING);
    break;
  default:
    break;
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
  case INPUT_REMOTE_FAILED:
    fail_remote(state, out, PHASE_WAITING);
    break;
  default:
    break;
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
  case INPUT_REMOTE_FAILED:
    fail_remote(state, out, PHASE_CONFIRM_WAITING);
    break;
  default:
    break;
  }
}

static void step_waiting(struct decide_state *state, enum decide_input input,
                         struct decide_output *out)
{
  if (input != INPUT_RETRY_DUE)
    return;
  if (state->phase == PHASE_WAITING) {
    state->phase = PHASE_LOOKING_UP;
    out->actions |= ACTION_LOOKUP;
  } else {
    state->phase = PHASE_CONFIRMING;
    out->actions |= ACTION_CLAIM;
  }
}

void decide_init(struct decide_state *state)
{
  *state = (struct decide_state){.phase = PHASE_IDENTIFYING};
}

void decide_step(struct decide_state *state, enum decide_input input, struct decide_output *out)
{
  *out = (struct decide_output){0};
  if (input == INPUT_FORGOTTEN) {
    settle(state, out, DECISION_RELEASED, REASON_FORGOTTEN);
    return;
  }
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
    step_waiting(state, input, out);
    break;
  case PHASE_SETTLED:
    break;
  }
}

const char *decision_name(enum decision decision)
{
  static const char *const names[] = {
    [DECISION_NONE] = "", [DECISION_CONNECT] = "connect",
    [DECISION_KEEP_EXISTING] = "keep-existing", [DECISION_PENDING] = "pending",
    [DECISION_UNIDENTIFIED] = "unidentified", [DECISION_RELEASED] = "released",
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
  };
  return names[reason];
}
