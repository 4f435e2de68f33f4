#include "app/accounts.h"

#include <crack.h>
#include <sodium.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>

#include "engine/render.h"
#include "engine/text.h"

namespace mentorflow::app {

namespace {

constexpr int kWindowMinutes = 15;
constexpr long long kPairLimit = 5;       // one address against one account
constexpr long long kAddressLimit = 20;   // one address against any account
constexpr long long kAccountLimit = 50;   // one account from addresses that already failed on it
constexpr int kConcurrentHashes = 2;

// At most kConcurrentHashes argon2id computations at once.
class HashGate {
 public:
  void Enter() {
    std::unique_lock<std::mutex> lock(m_);
    cv_.wait(lock, [&] { return running_ < kConcurrentHashes; });
    ++running_;
  }
  void Leave() {
    {
      std::lock_guard<std::mutex> lock(m_);
      --running_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  int running_ = 0;
};

HashGate& Gate() {
  static HashGate gate;
  return gate;
}

struct GateHold {
  GateHold() { Gate().Enter(); }
  ~GateHold() { Gate().Leave(); }
};

void InitSodium() {
  static const int ready = sodium_init();
  (void)ready;
}

std::size_t Characters(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

long long SettingNumber(Context& ctx, const char* key, long long fallback) {
  std::string v;
  if (!ctx.store.GetSetting(key, &v).ok()) return fallback;
  try {
    return std::stoll(v);
  } catch (...) {
    return fallback;
  }
}

std::string Lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// The message for `person` carrying a link with `token`.
Status SendLink(Context& ctx, const std::string& person, const std::string& kind, const LinkBase& link,
                std::string* link_out = nullptr) {
  const std::string token = NewToken();
  const long long hours = SettingNumber(ctx, "invitation_hours", 72);
  const Instant until = ctx.now.instant + std::chrono::hours(hours);
  std::string base = link.base_url;
  if (base.empty()) ctx.store.GetSetting("base_url", &base);
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string institution, name;
  ctx.store.GetSetting("institution", &institution);
  std::map<std::string, std::string> names;
  if (ctx.store.Names({person}, &names).ok() && names.count(person)) name = names[person];
  std::string local = LocalDateTime(until, ctx.zone);
  if (local.size() > 10) local[10] = ' ';
  const nlohmann::json context = {{"recipient", {{"name", name}}},
                                  {"institution", {{"name", institution}}},
                                  {"link", base + "/account/password?institution=" + ctx.store.institution() + "&token=" + token},
                                  {"hours", hours},
                                  {"valid_until", RussianDate(FormatDate(LocalDate(until, ctx.zone))) +
                                                      " " + local.substr(11)}};
  RenderedReminder mail;
  if (Status s = RenderReminder(ctx.templates, "account_" + kind, context, &mail); !s.ok()) return s;
  Status st = ctx.store.IssueAccountToken(person, kind, TokenHash(token), FormatInstant(until),
                                          {mail.subject, mail.text}, kind == "invite" ? ctx.actor : "", ctx.now);
  if (st.ok() && link_out) *link_out = context["link"].get<std::string>();
  return st;
}

Result<SessionStart> StartSession(Context& ctx, const std::string& person) {
  SessionStart s{person, NewToken(), NewToken()};
  if (Status st = ctx.store.CreateSession(TokenHash(s.token), person, s.csrf, ctx.now); !st.ok()) return st;
  return s;
}

const std::string& DummyHash() {
  static const std::string hash = [] {
    auto r = HashPassword("not a password anyone has: " + NewToken());
    return r.ok() ? r.value() : std::string();
  }();
  return hash;
}

}  // namespace

std::string NewToken() {
  InitSodium();
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  char out[sodium_base64_ENCODED_LEN(16, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(out, sizeof out, bytes, sizeof bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return out;
}

std::string TokenHash(const std::string& token) {
  InitSodium();
  unsigned char hash[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(hash, reinterpret_cast<const unsigned char*>(token.data()), token.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  return hex;
}

Status CheckNewPassword(const std::string& password, const std::string& person) {
  if (Status s = CheckText("password", password, 1024); !s.ok())
    return Status(Code::kBadInput, "password: only printable characters, valid UTF-8", "password");
  const std::size_t n = Characters(password);
  if (n < 8) return Status(Code::kBadInput, "password: at least 8 characters", "password");
  if (n > 128) return Status(Code::kBadInput, "password: at most 128 characters", "password");
  // cracklib: a common password, a dictionary word or one lightly changed.
  static std::mutex crack;  // cracklib keeps state between calls
  std::lock_guard<std::mutex> lock(crack);
  const char* dict = GetDefaultCracklibDict();
  if (::access((std::string(dict) + ".pwd").c_str(), R_OK) != 0)
    return Status::Internal("the password dictionary is missing: install cracklib-runtime");
  if (const char* why = FascistCheckUser(password.c_str(), dict, person.c_str(), nullptr))
    return Status(Code::kBadInput, std::string("password: too easy to guess (") + why + ")", "password");
  return Status::Ok();
}

Result<std::string> HashPassword(const std::string& password) {
  InitSodium();
  GateHold hold;
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return Status::Internal("out of memory while hashing a password");
  return std::string(out);
}

bool VerifyPassword(const std::string& hash, const std::string& password) {
  InitSodium();
  GateHold hold;
  return !hash.empty() && crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

Status InvitePerson(Context& ctx, const std::string& person, const LinkBase& link, std::string* link_out) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  return SendLink(ctx, person, "invite", link, link_out);
}

Status ForgotPassword(Context& ctx, const std::string& login, const LinkBase& link) {
  std::string person, hash;
  Status found = ctx.store.FindAccount(login, &person, &hash);
  if (found.code() == Code::kNotFound) return Status::Ok();  // the same answer
  if (!found.ok()) return found;
  Status sent = SendLink(ctx, person, "reset", link);
  if (sent.code() == Code::kNotFound || sent.code() == Code::kBadInput) return Status::Ok();  // no address: the same
  return sent;
}

Result<std::string> RedeemLink(Context& ctx, const std::string& token, const std::string& password) {
  const Status not_valid(Code::kNotFound, "this link is not valid: it was used, or it expired", "link");
  if (token.size() != 22 || token.find_first_not_of(
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos)
    return not_valid;
  if (Status s = CheckNewPassword(password, ""); !s.ok()) return s;
  auto hash = HashPassword(password);
  if (!hash.ok()) return hash.status();
  std::string person;
  Status st = ctx.store.RedeemAccountToken(TokenHash(token), *hash, ctx.now, &person);
  if (st.code() == Code::kNotFound) return not_valid;
  if (!st.ok()) return st;
  return person;
}

Result<SessionStart> Login(Context& ctx, const LoginRequest& r) {
  const Status wrong(Code::kRefused, "wrong login or password", "login");
  const Status throttled(Code::kRefused, "too many failed logins: try again in a few minutes", "throttled");
  if (r.login.empty() || r.login.size() > 320 || r.password.size() > 1024 || !CheckText("login", r.login, 320).ok())
    return wrong;
  std::string person, hash;
  Status found = ctx.store.FindAccount(r.login, &person, &hash);
  if (!found.ok() && found.code() != Code::kNotFound) return found;
  const bool known = found.ok();
  const std::string account = known ? "person:" + person : "login:" + Lower(r.login);
  const std::string pair = account + "@" + r.address;
  const std::string since = FormatInstant(ctx.now.instant - std::chrono::minutes(kWindowMinutes));
  long long by_pair = 0, by_address = 0, by_account = 0;
  if (Status s = ctx.store.CountLoginFailures("pair", pair, since, &by_pair); !s.ok()) return s;
  if (Status s = ctx.store.CountLoginFailures("address", r.address, since, &by_address); !s.ok()) return s;
  if (Status s = ctx.store.CountLoginFailures("account", account, since, &by_account); !s.ok()) return s;
  if (by_pair >= kPairLimit || by_address >= kAddressLimit || (by_pair > 0 && by_account >= kAccountLimit))
    return throttled;
  const bool good = VerifyPassword(known ? hash : DummyHash(), r.password) && known;
  if (!good) {
    if (Status s = ctx.store.RecordLoginFailure({{"pair", pair}, {"address", r.address}, {"account", account}}, ctx.now);
        !s.ok())
      return s;
    return wrong;
  }
  if (Status s = ctx.store.ClearLoginFailures("pair", pair); !s.ok()) return s;
  return StartSession(ctx, person);
}

Result<Store::SessionRecord> Authenticate(Context& ctx, const std::string& token) {
  if (token.empty() || token.size() > 64) return Status::NotFound("no session");
  const long long idle = SettingNumber(ctx, "session_idle_minutes", 30) * 60;
  const long long absolute = SettingNumber(ctx, "session_absolute_hours", 12) * 3600;
  Store::SessionRecord s;
  if (Status st = ctx.store.TouchSession(TokenHash(token), ctx.now, idle, absolute, &s); !st.ok()) return st;
  return s;
}

Status Logout(Context& ctx, const std::string& token) { return ctx.store.EndSession(TokenHash(token)); }

Result<SessionStart> ChangePassword(Context& ctx, const std::string& current, const std::string& next,
                                    const std::string& address) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  std::string person, hash;
  if (Status s = ctx.store.FindAccount(ctx.actor, &person, &hash); !s.ok()) return s;
  const std::string pair = "person:" + person + "@" + address;
  const std::string since = FormatInstant(ctx.now.instant - std::chrono::minutes(kWindowMinutes));
  long long failures = 0;
  if (Status s = ctx.store.CountLoginFailures("pair", pair, since, &failures); !s.ok()) return s;
  if (failures >= kPairLimit)
    return Status(Code::kRefused, "too many failed logins: try again in a few minutes", "throttled");
  if (!VerifyPassword(hash, current)) {
    if (Status s = ctx.store.RecordLoginFailure({{"pair", pair}}, ctx.now); !s.ok()) return s;
    return Status(Code::kRefused, "the current password is not right", "login");
  }
  if (Status s = CheckNewPassword(next, person); !s.ok()) return s;
  auto h = HashPassword(next);
  if (!h.ok()) return h.status();
  if (Status s = ctx.store.ChangePassword(person, *h, ctx.now); !s.ok()) return s;
  return StartSession(ctx, person);
}

Status ConfirmPassword(Context& ctx, const std::string& password) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  std::string person, hash;
  Status found = ctx.store.FindAccount(ctx.actor, &person, &hash);
  if (!found.ok() && found.code() != Code::kNotFound) return found;
  if (!VerifyPassword(found.ok() ? hash : DummyHash(), password) || !found.ok())
    return Status(Code::kRefused, "signing needs your password, and it is not right", "password_check");
  return Status::Ok();
}

Result<std::string> NewCalendarFeed(Context& ctx) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  const std::string token = NewToken();
  if (Status s = ctx.store.CreateCalendarFeed(ctx.actor, TokenHash(token), ctx.now); !s.ok()) return s;
  return token;
}

Status RevokeCalendarFeeds(Context& ctx) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  return ctx.store.RevokeCalendarFeeds(ctx.actor);
}

Result<std::string> CalendarFeedPerson(Context& ctx, const std::string& token) {
  if (token.size() != 22) return Status::NotFound("no calendar");
  std::string person;
  if (Status s = ctx.store.CalendarFeedPerson(TokenHash(token), &person); !s.ok()) return s;
  return person;
}

}  // namespace mentorflow::app
