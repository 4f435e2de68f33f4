// Accounts, for `mentorflow serve`: invitations, passwords, logins,
// sessions, password resets and private calendar feeds. The rules follow
// OWASP ASVS 5.0 (V6 authentication, V7 session management):
// - passwords of 8 to 128 characters, any characters, no composition rules,
//   refused when a dictionary of common passwords (cracklib) has them;
//   hashed with argon2id (libsodium crypto_pwhash_str), a few at a time;
// - an unknown account and a wrong password are answered alike, in about
//   the same time (a dummy hash is checked for an unknown one);
// - failed logins are throttled in the database (shared by processes) per
//   account and address, per address, and per account only for addresses
//   that already failed on it: the owner, from elsewhere, still logs in;
// - tokens (invitation, reset, session, calendar) are 128 random bits, and
//   only their SHA-256 is stored.
#pragma once

#include <string>

#include "app/context.h"

namespace mentorflow::app {

// 128 random bits, base64url without padding (22 characters).
std::string NewToken();
// What the database keeps of a token.
std::string TokenHash(const std::string& token);

// BadInput (rule "password") with the reason, or Ok. `person` is checked
// against too (a password made of one's own id is refused).
Status CheckNewPassword(const std::string& password, const std::string& person);
// argon2id; at most a few run at once in a process (each takes 64 MiB).
Result<std::string> HashPassword(const std::string& password);
bool VerifyPassword(const std::string& hash, const std::string& password);

// Where links in e-mails point: `base_url` (serve --base-url), else the
// institution's setting base_url.
struct LinkBase {
  std::string base_url;
};

// A curator or the director invites a registered person with an e-mail
// address: a single-use link, valid `invitation_hours` (72), goes out
// through the outbox (templates/reminders/account_invite.mustache).
// `link_out`: the link itself, for the operator at the console only
// (`person invite --print-link`); the server never asks for it.
Status InvitePerson(Context& ctx, const std::string& person, const LinkBase& link, std::string* link_out = nullptr);

// "Forgot password": a fresh link to the account `login` names (a person id
// or an e-mail address). Ok whether or not there is such an account.
Status ForgotPassword(Context& ctx, const std::string& login, const LinkBase& link);

// Sets the password from an invitation or reset link; the person.
Result<std::string> RedeemLink(Context& ctx, const std::string& token, const std::string& password);

struct SessionStart {
  std::string person;
  std::string token;  // for the cookie; never stored
  std::string csrf;   // sent back with every change
};

struct LoginRequest {
  std::string login;     // a person id or an e-mail address
  std::string password;
  std::string address;   // the client's address, for throttling
};
// Refused with rule "login" (wrong login or password, the same text for
// both) or rule "throttled" (too many failures: try later).
Result<SessionStart> Login(Context& ctx, const LoginRequest& r);

// The live session of `token` (idle and absolute limits from the settings
// session_idle_minutes and session_absolute_hours); NotFound otherwise.
Result<Store::SessionRecord> Authenticate(Context& ctx, const std::string& token);

Status Logout(Context& ctx, const std::string& token);

// The actor's new password, given the current one (rule "login" when wrong);
// ends every session of theirs and starts a new one for this client.
Result<SessionStart> ChangePassword(Context& ctx, const std::string& current, const std::string& next,
                                    const std::string& address);

// A signature given through an account is confirmed by the password (the
// actor's); Refused (rule "password_check") when it is not right.
Status ConfirmPassword(Context& ctx, const std::string& password);

// A private calendar URL for the actor: a new token (the previous one stops
// working); Revoke stops them all.
Result<std::string> NewCalendarFeed(Context& ctx);
Status RevokeCalendarFeeds(Context& ctx);
// Whose calendar `token` is; NotFound otherwise.
Result<std::string> CalendarFeedPerson(Context& ctx, const std::string& token);

}  // namespace mentorflow::app
