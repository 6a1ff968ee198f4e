/* Support commands against a backend; see admin_exec.h. */
#include "admin_exec.h"

#include "account_cache.h"
#include "backend_admin.h"
#include "hash.h"
#include "log.h"
#include "terminal_id.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <time.h>

#define NAME_MAX_LEN 63

struct request {
  const struct admin_context *ctx;
  const struct backend_admin_ops *ops;
  const char *who;
  char *const *words;
  size_t count;
  uint64_t now;
  json_t *answer;
};

static uint64_t wall_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int fail(struct request *req, int status, const char *error, const char *message)
{
  json_decref(req->answer);
  req->answer = json_pack("{s:s, s:s}", "error", error, "message", message);
  return status;
}

static int storage_failed(struct request *req, int r)
{
  log_err("admin: %s: %s: %s", req->who, req->words[0], strerror(-r));
  return fail(req, ADMIN_FAILED, "storage-error", strerror(-r));
}

/* One line per command a person ran, for whoever asks later who did it
 * and when (the time in the line: a command's own stderr has none). */
static void audit(const struct request *req, const char *subject, const char *outcome)
{
  time_t seconds = (time_t)(req->now / 1000);
  char when[32] = "";
  struct tm tm;

  if (gmtime_r(&seconds, &tm))
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  log_notice("admin: %s: %s ran %s%s%s: %s", when, req->who, req->words[0], subject ? " " : "",
             subject ? subject : "", outcome);
}

/* The terminal's keyed hash, and its first digits for the log: the raw
 * identifier (an IMEI, say) is never written anywhere. */
static int terminal_hash(struct request *req, const char *id, uint8_t out[HASH_SHA256_LEN],
                         char subject[32])
{
  char hex[HASH_SHA256_HEX_LEN + 1];

  if (!terminal_id_is_acceptable(id, strlen(id)))
    return fail(req, ADMIN_USAGE, "bad-terminal-id",
                "not a terminal identifier (usb:VVVV:SERIAL or imei:15 digits)");
  if (!req->ctx->terminal_mac)
    return fail(req, ADMIN_FAILED, "no-key", "the terminal-id key is not loaded");
  hash_hmac_sha256_with(req->ctx->terminal_mac, id, strlen(id), out);
  hash_hex_encode(out, HASH_SHA256_LEN, hex);
  snprintf(subject, 32, "terminal %.16s", hex);
  return ADMIN_OK;
}

static json_t *binding_json(const char *id, const struct backend_binding_info *info)
{
  return json_pack("{s:s, s:s, s:I, s:I}", "terminal", id, "owner", info->owner, "created",
                   (json_int_t)(info->created_ms / 1000), "renewed",
                   (json_int_t)(info->renewed_ms / 1000));
}

static int cmd_show(struct request *req)
{
  const char *id = req->words[1];
  uint8_t hash[HASH_SHA256_LEN];
  char subject[32];
  struct backend_binding_info info = {0};
  int r = terminal_hash(req, id, hash, subject);

  if (r != ADMIN_OK)
    return r;
  r = req->ops->show(req->ctx->backend, hash, req->now, &info);
  if (r < 0)
    return storage_failed(req, r);
  audit(req, subject, r ? info.owner : "not bound");
  if (!r)
    return fail(req, ADMIN_NOT_FOUND, "not-bound", "the terminal is not bound");
  req->answer = binding_json(id, &info);
  return ADMIN_OK;
}

static int cmd_release(struct request *req)
{
  const char *id = req->words[1];
  uint8_t hash[HASH_SHA256_LEN];
  char subject[32], outcome[ACCOUNT_ID_MAX + 32];
  struct backend_binding_info info = {0};
  int r = terminal_hash(req, id, hash, subject);

  if (r != ADMIN_OK)
    return r;
  r = req->ops->release(req->ctx->backend, hash, req->now, &info);
  if (r < 0)
    return storage_failed(req, r);
  snprintf(outcome, sizeof outcome, r ? "released (it was %s's)" : "not bound", info.owner);
  audit(req, subject, outcome);
  if (!r)
    return fail(req, ADMIN_NOT_FOUND, "not-bound", "the terminal is not bound");
  req->answer = binding_json(id, &info);
  json_object_set_new(req->answer, "released", json_true());
  return ADMIN_OK;
}

static int cmd_revoke(struct request *req)
{
  const char *account = req->words[1];
  int r = req->ops->revoke(req->ctx->backend, account, req->now);

  if (r < 0)
    return storage_failed(req, r);
  if (r && req->ctx->accounts) /* this process's cache: the 401 is at once */
    account_cache_forget_account(req->ctx->accounts, account);
  audit(req, account, r ? "revoked" : "no such account");
  if (!r)
    return fail(req, ADMIN_NOT_FOUND, "no-such-account", "no account of that name");
  req->answer = json_pack("{s:s, s:b}", "account", account, "revoked", 1);
  return ADMIN_OK;
}

static int cmd_stats(struct request *req)
{
  struct backend_stats stats;
  int r = req->ops->stats(req->ctx->backend, req->now, &stats);

  if (r < 0)
    return storage_failed(req, r);
  audit(req, NULL, "done");
  req->answer = json_pack("{s:I, s:I}", "bindings", (json_int_t)stats.bindings, "accounts",
                          (json_int_t)stats.accounts);
  return ADMIN_OK;
}

/* An account name a person chose: letters, digits and ._@- (a login,
 * a mail address), not a shadow account's "sa-" form. */
static bool name_is_acceptable(const char *name)
{
  size_t len = strlen(name);

  if (len == 0 || len > NAME_MAX_LEN || strncmp(name, "sa-", 3) == 0)
    return false;
  return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-") == len;
}

static int cmd_create_account(struct request *req)
{
  const char *name = req->words[1];
  uint8_t token[32], token_hash[HASH_SHA256_LEN];
  char token_hex[2 * sizeof token + 1];
  int r;

  if (!name_is_acceptable(name))
    return fail(req, ADMIN_USAGE, "bad-name",
                "a name is 1 to 63 letters, digits or ._@-, and does not begin with sa-");
  r = hash_random_bytes(token, sizeof token);
  if (r < 0)
    return storage_failed(req, r);
  hash_hex_encode(token, sizeof token, token_hex);
  explicit_bzero(token, sizeof token);
  hash_sha256(token_hex, strlen(token_hex), token_hash);
  r = req->ops->create_account(req->ctx->backend, name, token_hash, req->now);
  audit(req, name, r == 0 ? "created" : r == -EEXIST ? "name taken" : "failed");
  if (r == -EEXIST)
    return fail(req, ADMIN_EXISTS, "account-exists", "an account of that name exists");
  if (r < 0)
    return storage_failed(req, r);
  req->answer = json_pack("{s:s, s:s}", "account", name, "token", token_hex);
  explicit_bzero(token_hex, sizeof token_hex);
  return ADMIN_OK;
}

static int cmd_move_bindings(struct request *req)
{
  const char *from = req->words[1], *to = req->words[2];
  char subject[2 * ACCOUNT_ID_MAX + 8], outcome[48];
  uint64_t moved = 0;
  int r;

  if (strcmp(from, to) == 0)
    return fail(req, ADMIN_USAGE, "same-account", "FROM and TO are the same account");
  r = req->ops->move_bindings(req->ctx->backend, from, to, req->now, &moved);
  snprintf(subject, sizeof subject, "%s to %s", from, to);
  snprintf(outcome, sizeof outcome, r == 0 ? "%llu moved" : "refused", (unsigned long long)moved);
  audit(req, subject, outcome);
  if (r == -ENOENT)
    return fail(req, ADMIN_NOT_FOUND, "no-such-account",
                "FROM or TO is not an account, or is revoked");
  if (r < 0)
    return storage_failed(req, r);
  req->answer = json_pack("{s:s, s:s, s:I}", "from", from, "to", to, "moved", (json_int_t)moved);
  return ADMIN_OK;
}

static int cmd_backup(struct request *req)
{
  const char *path = req->words[1];
  uint64_t bytes = 0;
  int r;

  if (!req->ops->backup)
    return fail(req, ADMIN_FAILED, "not-supported",
                "this backend is backed up with its own tools (pg_dump)");
  if (path[0] != '/')
    return fail(req, ADMIN_USAGE, "relative-path", "the backup file must be an absolute path");
  r = req->ops->backup(req->ctx->backend, path, &bytes);
  audit(req, path, r == 0 ? "written" : strerror(-r));
  if (r == -EEXIST)
    return fail(req, ADMIN_EXISTS, "file-exists", "the backup file exists; choose another");
  if (r < 0)
    return storage_failed(req, r);
  req->answer = json_pack("{s:s, s:I}", "backup", path, "bytes", (json_int_t)bytes);
  return ADMIN_OK;
}

static const struct {
  const char *name;
  size_t operands;
  bool needs_key;
  int (*run)(struct request *req);
} commands[] = {
  {"show", 1, true, cmd_show},
  {"release", 1, true, cmd_release},
  {"revoke", 1, false, cmd_revoke},
  {"stats", 0, false, cmd_stats},
  {"create-account", 1, false, cmd_create_account},
  {"move-bindings", 2, false, cmd_move_bindings},
  {"backup", 1, false, cmd_backup},
};

static int find_command(const char *name)
{
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    if (strcmp(commands[i].name, name) == 0)
      return (int)i;
  return -1;
}

bool admin_is_command(const char *command)
{
  return find_command(command) >= 0;
}

bool admin_needs_key(const char *command)
{
  int i = find_command(command);

  return i >= 0 && commands[i].needs_key;
}

int admin_exec(const struct admin_context *ctx, const char *who, char *const *words, size_t count,
               json_t **out_json)
{
  struct request req = {.ctx = ctx, .who = who, .words = words, .count = count, .now = wall_ms()};
  int i = count > 0 ? find_command(words[0]) : -1, status;

  req.ops = ctx->backend->ops->admin;
  if (i < 0)
    status = fail(&req, ADMIN_USAGE, "no-such-command", "no such admin command");
  else if (count - 1 != commands[i].operands)
    status = fail(&req, ADMIN_USAGE, "operands", "wrong number of operands for this command");
  else if (!req.ops)
    status = fail(&req, ADMIN_FAILED, "not-supported", "this backend has no admin commands");
  else
    status = commands[i].run(&req);
  *out_json = req.answer ? req.answer : json_object();
  return status;
}
