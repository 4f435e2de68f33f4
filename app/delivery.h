// Handing pending reminders to a channel: a JSON Lines file, or e-mail over
// SMTP (libcurl). Channels follow spdlog's sink shape: the public
// non-virtual Send() keeps the books, the protected virtual SendMessage()
// does the work, so a test channel overrides one method.
//
// Delivery is at-least-once and never concurrent: each reminder is claimed
// in the store before it goes out and marked after (see
// Store::ClaimForDelivery); a process killed in between leaves a claim that
// the next `deliver` takes over, and the message then carries the same
// Message-ID, so the duplicate is recognisable.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "storage/store.h"

namespace mentorflow {

struct OutgoingMessage {
  long long reminder = 0;
  std::string message_id;  // "<...@...>", stable for a reminder
  std::string from;
  std::string to_email, to_name, to_person;
  std::string subject, text;
  std::string date;  // RFC 5322
  ReminderRecord record;
};

class Channel {
 public:
  virtual ~Channel() = default;
  // Ok, or the error: Code::kBadInput for one a retry cannot clear.
  Status Send(const OutgoingMessage& m);
  int sent() const { return sent_; }
  virtual std::string Describe() const = 0;
  // Whether the last failure was the server's, not the message's: it could
  // not be reached, or did not answer in time. Delivery then gives up on it
  // for this run rather than waiting once per reminder.
  virtual bool ServerUnreachable() const { return false; }

 protected:
  // Whether a message needs the person's e-mail address (a file does not).
  virtual bool NeedsAddress() const { return true; }
  virtual Status SendMessage(const OutgoingMessage& m) = 0;

 private:
  int sent_ = 0;
};

// How an SMTP relay is reached. A provider's relay wants TLS and a login:
// smtps:// is TLS from the start (port 465); smtp:// upgrades with STARTTLS
// as `tls` says. The certificate is always verified (against `ca_file` when
// given, for a private relay). The password is never given here in clear by
// the user: it is read by SmtpPassword() from a file or the environment.
struct SmtpOptions {
  int timeout_seconds = 30;
  // "auto": STARTTLS when the server offers it, and required when a user is
  // set; "required": refuse to send without it; "none": never (no user then).
  std::string tls = "auto";
  std::string ca_file;
  std::string user, password;
};

// "jsonl:PATH" or "smtp://HOST[:PORT]" (also smtps://). A malformed value is
// Code::kBadInput with a message that says what is accepted.
Status OpenChannel(const std::string& via, const SmtpOptions& smtp, std::unique_ptr<Channel>* out);
Status OpenChannel(const std::string& via, int timeout_seconds, std::unique_ptr<Channel>* out);

// The SMTP options of an institution's settings: smtp_timeout_seconds,
// smtp_tls, smtp_ca_file, smtp_user and smtp_password_from ("file:PATH", the
// file's first line, or "env:NAME", the variable): the password itself is
// never in the database nor on a command line.
Status SmtpOptionsFromSettings(Store& store, SmtpOptions* out);

struct DeliveryReport {
  struct Line {
    long long id = 0;
    std::string to, status, error;
  };
  std::vector<Line> lines;
  int sent = 0, failed = 0, dead = 0;
};

// Delivers every reminder that is deliverable at `now`, claiming a few at a
// time (so many that their sending, each within the SMTP timeout, ends well
// before the claim timeout lets another process take them). After the first
// failure of the server itself (ServerUnreachable) the rest are released,
// untried, for the next run, and the status is Internal; so it is when
// reminders were tried and not one could be sent.
// With `limit` > 0, at most that many are claimed (one turn of a region's
// round, app/region.h); `more` then says whether the limit stopped it.
Status DeliverPending(Store& store, Channel& channel, const Now& now, DeliveryReport* report, int limit = 0,
                      bool* more = nullptr);

// Exposed for tests and the benchmark.
std::string MessageIdFor(const ReminderRecord& r, const std::string& mail_from);
std::string EncodeHeaderWord(const std::string& utf8);  // RFC 2047 "=?UTF-8?B?...?="
std::string BuildMimeMessage(const OutgoingMessage& m);

}  // namespace mentorflow
