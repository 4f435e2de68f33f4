// Accounts for `serve`: tokens of invitations and resets, passwords,
// failed logins, sessions and calendar feeds (storage/store.h). Tokens and
// passwords arrive hashed: nothing here sees a secret.
#include "engine/rules.h"
#include "engine/text.h"
#include "storage/statements.h"

namespace mentorflow::storage {

namespace {

std::string Lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

}  // namespace

Status SociStore::IssueAccountToken(const std::string& person_id, const std::string& kind,
                                    const std::string& token_hash, const std::string& expires_at,
                                    const AccountMail& mail, const std::string& actor_id, const Now& now) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (kind != "invite" && kind != "reset") return Status::Internal("unknown account token kind '" + kind + "'");
    if (Status s = CheckId("a person id", person_id); !s.ok()) return s;
    Tx tx(*this);
    std::string capacity = "self";
    if (kind == "invite") {
      if (Status s = CheckActor(actor_id); !s.ok()) return s;
      const Actor actor = LoadActor(actor_id);
      if (Status s = MayManagePeople(actor); !s.ok()) return s;
      capacity = actor.Holds("director") ? "director" : "curator";
    }
    std::string email, erased;
    soci::indicator ei = soci::i_null, xi = soci::i_null;
    bool found = false;
    {
      std::string name;
      *sql_ << "SELECT d.name, d.email, p.erased_at FROM people p JOIN person_data d ON d.institution = p.institution"
               " AND d.id = p.id WHERE p.institution = " + I() + " AND p.id = :id",
          soci::into(name), soci::into(email, ei), soci::into(erased, xi), soci::use(person_id);
      found = sql_->got_data();
    }
    if (!found || xi == soci::i_ok) return Status::NotFound("no person '" + person_id + "'");
    if (ei != soci::i_ok || email.empty())
      return Status::BadInput(person_id + " has no e-mail address to send the link to: person update " + person_id +
                              " --email ADDRESS");
    if (kind == "reset") {
      long long n = 0;
      *sql_ << "SELECT COUNT(*) FROM accounts WHERE institution = " + I() + " AND person = :p", soci::into(n), soci::use(person_id);
      if (n == 0) return Status::NotFound("no account of '" + person_id + "'");
    }
    const std::string at = FormatInstant(now.instant);
    std::string k = kind;
    *sql_ << "UPDATE account_tokens SET used_at = :a WHERE institution = " + I() + " AND person = :p AND kind = :k AND used_at IS NULL",
        soci::use(at), soci::use(person_id), soci::use(k);
    *sql_ << "INSERT INTO account_tokens (institution, token_hash, person, kind, created_at, expires_at) VALUES (" + I() + ", :h, :p, :k, :c, :e)",
        soci::use(token_hash), soci::use(person_id), soci::use(k), soci::use(at), soci::use(expires_at);
    auto& q = q_.Get(q_.upsert_reminder_rows[1], 1);
    auto& row = q.rows[0];
    row.instance = "account:" + person_id;
    row.workflow = "account";
    row.key = kind + ":" + token_hash.substr(0, 16);
    row.on = FormatDate(now.today);
    row.recipient = person_id;
    row.kind = "notice";
    row.deadline_ind = soci::i_null;
    row.event_ind = soci::i_null;
    row.template_name = "account_" + kind;
    row.subject = mail.subject;
    row.body = mail.body;
    row.status = "pending";
    row.created = at;
    q.Run();
    if (kind == "invite")
      if (Status s = AppendPersonHistory(person_id, actor_id, capacity, "invited", "an account invitation sent", now);
          !s.ok())
        return s;
    tx.Commit();
    return Status::Ok();
  });
}

Status SociStore::RedeemAccountToken(const std::string& token_hash, const std::string& password_hash, const Now& now,
                                     std::string* person_id) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    Tx tx(*this);
    const std::string at = FormatInstant(now.instant);
    std::string person, kind;
    *sql_ << "SELECT person, kind FROM account_tokens WHERE institution = " + I() + " AND token_hash = :h AND used_at IS NULL AND expires_at > :a",
        soci::into(person), soci::into(kind), soci::use(token_hash), soci::use(at);
    if (!sql_->got_data()) return Status::NotFound("this link is not valid: it was used, or it expired");
    *sql_ << "UPDATE account_tokens SET used_at = :a WHERE institution = " + I() + " AND token_hash = :h", soci::use(at), soci::use(token_hash);
    long long n = 0;
    *sql_ << "SELECT COUNT(*) FROM accounts WHERE institution = " + I() + " AND person = :p", soci::into(n), soci::use(person);
    if (n == 0)
      *sql_ << "INSERT INTO accounts (institution, person, password_hash, created_at, changed_at) VALUES (" + I() + ", :p, :h, :a, :b)",
          soci::use(person), soci::use(password_hash), soci::use(at), soci::use(at);
    else
      *sql_ << "UPDATE accounts SET password_hash = :h, changed_at = :a WHERE institution = " + I() + " AND person = :p", soci::use(password_hash),
          soci::use(at), soci::use(person);
    *sql_ << "DELETE FROM sessions WHERE institution = " + I() + " AND person = :p", soci::use(person);
    if (Status s = AppendPersonHistory(person, person, "self", kind == "invite" ? "account_created" : "password_reset",
                                       "", now);
        !s.ok())
      return s;
    tx.Commit();
    *person_id = person;
    return Status::Ok();
  });
}

Status SociStore::FindAccount(const std::string& login, std::string* person_id, std::string* password_hash) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    std::string by_id = login, by_email = Lower(login);
    *sql_ << "SELECT a.person, a.password_hash FROM accounts a JOIN person_data d ON d.institution = a.institution"
             " AND d.id = a.person JOIN people p ON p.institution = a.institution AND p.id = a.person"
             " WHERE a.institution = " + I() + " AND p.erased_at IS NULL AND (a.person = :i OR LOWER(d.email) = :e)",
        soci::into(*person_id), soci::into(*password_hash), soci::use(by_id), soci::use(by_email);
    if (!sql_->got_data()) return Status::NotFound("no account");
    return Status::Ok();
  });
}

Status SociStore::ChangePassword(const std::string& person_id, const std::string& password_hash, const Now& now) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    Tx tx(*this);
    const std::string at = FormatInstant(now.instant);
    *sql_ << "UPDATE accounts SET password_hash = :h, changed_at = :a WHERE institution = " + I() + " AND person = :p", soci::use(password_hash),
        soci::use(at), soci::use(person_id);
    *sql_ << "DELETE FROM sessions WHERE institution = " + I() + " AND person = :p", soci::use(person_id);
    if (Status s = AppendPersonHistory(person_id, person_id, "self", "password_changed", "", now); !s.ok()) return s;
    tx.Commit();
    return Status::Ok();
  });
}

Status SociStore::CountLoginFailures(const std::string& scope, const std::string& subject, const std::string& since,
                                     long long* n) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    *sql_ << "SELECT COUNT(*) FROM login_failures WHERE institution = " + I() + " AND scope = :s AND subject = :k AND at >= :a", soci::into(*n),
        soci::use(scope), soci::use(subject), soci::use(since);
    return Status::Ok();
  });
}

Status SociStore::RecordLoginFailure(const std::vector<std::pair<std::string, std::string>>& scopes, const Now& now) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    Tx tx(*this);
    const std::string at = FormatInstant(now.instant);
    // What is a day old counts no more: the table stays small.
    const std::string day_ago = FormatInstant(now.instant - std::chrono::hours(24));
    *sql_ << "DELETE FROM login_failures WHERE institution = " + I() + " AND at < :a", soci::use(day_ago);
    for (const auto& [scope, subject] : scopes)
      *sql_ << "INSERT INTO login_failures (institution, scope, subject, at) VALUES (" + I() + ", :s, :k, :a)", soci::use(scope),
          soci::use(subject), soci::use(at);
    tx.Commit();
    return Status::Ok();
  });
}

Status SociStore::ClearLoginFailures(const std::string& scope, const std::string& subject) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    *sql_ << "DELETE FROM login_failures WHERE institution = " + I() + " AND scope = :s AND subject = :k", soci::use(scope), soci::use(subject);
    return Status::Ok();
  });
}

Status SociStore::CreateSession(const std::string& token_hash, const std::string& person_id, const std::string& csrf,
                                const Now& now) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    const std::string at = FormatInstant(now.instant);
    *sql_ << "INSERT INTO sessions (institution, token_hash, person, csrf, created_at, seen_at) VALUES (" + I() + ", :h, :p, :c, :a, :b)",
        soci::use(token_hash), soci::use(person_id), soci::use(csrf), soci::use(at), soci::use(at);
    return Status::Ok();
  });
}

Status SociStore::TouchSession(const std::string& token_hash, const Now& now, long long idle_seconds,
                               long long absolute_seconds, SessionRecord* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    SessionRecord r;
    *sql_ << "SELECT person, csrf, created_at, seen_at FROM sessions WHERE institution = " + I() + " AND token_hash = :h", soci::into(r.person),
        soci::into(r.csrf), soci::into(r.created_at), soci::into(r.seen_at), soci::use(token_hash);
    if (!sql_->got_data()) return Status::NotFound("no session");
    const auto created = ParseInstant(r.created_at), seen = ParseInstant(r.seen_at);
    const bool expired = !created || !seen || now.instant - *seen > std::chrono::seconds(idle_seconds) ||
                         now.instant - *created > std::chrono::seconds(absolute_seconds);
    if (expired) {
      *sql_ << "DELETE FROM sessions WHERE institution = " + I() + " AND token_hash = :h", soci::use(token_hash);
      return Status::NotFound("no session");
    }
    if (now.instant - *seen >= std::chrono::seconds(60)) {
      const std::string at = FormatInstant(now.instant);
      *sql_ << "UPDATE sessions SET seen_at = :a WHERE institution = " + I() + " AND token_hash = :h", soci::use(at), soci::use(token_hash);
      r.seen_at = at;
    }
    *out = r;
    return Status::Ok();
  });
}

Status SociStore::EndSession(const std::string& token_hash) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    *sql_ << "DELETE FROM sessions WHERE institution = " + I() + " AND token_hash = :h", soci::use(token_hash);
    return Status::Ok();
  });
}

Status SociStore::CreateCalendarFeed(const std::string& person_id, const std::string& token_hash, const Now& now) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    Tx tx(*this);
    const std::string at = FormatInstant(now.instant);
    *sql_ << "DELETE FROM calendar_feeds WHERE institution = " + I() + " AND person = :p", soci::use(person_id);
    *sql_ << "INSERT INTO calendar_feeds (institution, token_hash, person, created_at) VALUES (" + I() + ", :h, :p, :a)", soci::use(token_hash),
        soci::use(person_id), soci::use(at);
    tx.Commit();
    return Status::Ok();
  });
}

Status SociStore::RevokeCalendarFeeds(const std::string& person_id) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    *sql_ << "DELETE FROM calendar_feeds WHERE institution = " + I() + " AND person = :p", soci::use(person_id);
    return Status::Ok();
  });
}

Status SociStore::CalendarFeedPerson(const std::string& token_hash, std::string* person_id) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    *sql_ << "SELECT person FROM calendar_feeds WHERE institution = " + I() + " AND token_hash = :h", soci::into(*person_id), soci::use(token_hash);
    if (!sql_->got_data()) return Status::NotFound("no calendar");
    return Status::Ok();
  });
}

}  // namespace mentorflow::storage
