#include "app/delivery.h"

#include <algorithm>
#include <chrono>

#include <curl/curl.h>
#include <fcntl.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace mentorflow {
namespace {

std::string Base64(const std::string& bytes) {
  static const bool ready = sodium_init() >= 0;
  (void)ready;
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::string Rfc5322Date(Instant t) { return date::format("%a, %d %b %Y %H:%M:%S +0000", t); }

// ---- jsonl:PATH ----------------------------------------------------------------
class JsonlChannel : public Channel {
 public:
  explicit JsonlChannel(std::string path) : path_(std::move(path)) {}
  std::string Describe() const override { return "jsonl:" + path_; }

 protected:
  bool NeedsAddress() const override { return false; }
  Status SendMessage(const OutgoingMessage& m) override {
    nlohmann::json j = {{"id", m.reminder},       {"message_id", m.message_id}, {"to", m.to_person},
                        {"email", m.to_email},    {"name", m.to_name},          {"subject", m.subject},
                        {"text", m.text},         {"instance", m.record.instance},
                        {"workflow", m.record.workflow}, {"kind", m.record.kind}, {"on", m.record.on},
                        {"deadline", m.record.deadline.empty() ? nlohmann::json() : nlohmann::json(m.record.deadline)}};
    std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0600);
    if (fd < 0) return Status::Internal("cannot open " + path_ + ": " + std::strerror(errno));
    ssize_t n = ::write(fd, line.data(), line.size());
    bool ok = n == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
    ::close(fd);
    return ok ? Status::Ok() : Status::Internal("cannot write " + path_ + ": " + std::strerror(errno));
  }

 private:
  std::string path_;
};

// ---- smtp://HOST[:PORT] ---------------------------------------------------------
class SmtpChannel : public Channel {
 public:
  SmtpChannel(std::string url, SmtpOptions o) : url_(std::move(url)), o_(std::move(o)), timeout_(o_.timeout_seconds) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl_ = curl_easy_init();
  }
  ~SmtpChannel() override {
    if (curl_) curl_easy_cleanup(curl_);
  }
  std::string Describe() const override { return url_; }
  bool ServerUnreachable() const override { return unreachable_; }

 protected:
  Status SendMessage(const OutgoingMessage& m) override {
    if (!curl_) return Status::Internal("libcurl did not initialise");
    const std::string payload = BuildMimeMessage(m);
    struct Reader {
      const std::string* data;
      size_t pos = 0;
    } reader{&payload};
    auto read = [](char* buf, size_t size, size_t nitems, void* p) -> size_t {
      auto* r = static_cast<Reader*>(p);
      size_t n = std::min(size * nitems, r->data->size() - r->pos);
      std::memcpy(buf, r->data->data() + r->pos, n);
      r->pos += n;
      return n;
    };
    curl_slist* rcpt = curl_slist_append(nullptr, ("<" + m.to_email + ">").c_str());
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_reset(curl_);
    curl_easy_setopt(curl_, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl_, CURLOPT_MAIL_FROM, ("<" + m.from + ">").c_str());
    curl_easy_setopt(curl_, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl_, CURLOPT_READFUNCTION, static_cast<curl_read_callback>(read));
    curl_easy_setopt(curl_, CURLOPT_READDATA, &reader);
    curl_easy_setopt(curl_, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, static_cast<long>(timeout_));
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT, static_cast<long>(std::min(timeout_, 10)));
    curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    // TLS: verified always; STARTTLS as asked, and required with a login.
    curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!o_.ca_file.empty()) curl_easy_setopt(curl_, CURLOPT_CAINFO, o_.ca_file.c_str());
    const bool required = o_.tls == "required" || !o_.user.empty();
    curl_easy_setopt(curl_, CURLOPT_USE_SSL,
                     o_.tls == "none" && o_.user.empty() ? CURLUSESSL_NONE : required ? CURLUSESSL_ALL : CURLUSESSL_TRY);
    if (!o_.user.empty()) {
      curl_easy_setopt(curl_, CURLOPT_USERNAME, o_.user.c_str());
      curl_easy_setopt(curl_, CURLOPT_PASSWORD, o_.password.c_str());
    }
    CURLcode rc = curl_easy_perform(curl_);
    curl_slist_free_all(rcpt);
    unreachable_ = rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
                   rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR;
    if (rc == CURLE_OK) return Status::Ok();
    long code = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_LOGIN_DENIED) {  // every message would fail alike: stop the run, say what to fix
      unreachable_ = true;
      return Status::Internal("the SMTP server refused the login of '" + o_.user +
                              "': check smtp_user and the password that smtp_password_from names");
    }
    if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_USE_SSL_FAILED ||
        rc == CURLE_SSL_CONNECT_ERROR)
      unreachable_ = true;
    std::string why = std::string(curl_easy_strerror(rc)) + (*error ? std::string(": ") + error : "");
    if (code) why += " (SMTP " + std::to_string(code) + ")";
    return Status::Internal(why);
  }

 private:
  std::string url_;
  SmtpOptions o_;
  int timeout_;
  CURL* curl_ = nullptr;
  bool unreachable_ = false;
};

}  // namespace

Status Channel::Send(const OutgoingMessage& m) {
  if (m.to_email.empty() && NeedsAddress())
    return Status::BadInput("person '" + m.to_person + "' has no e-mail address (person add --email)");
  Status st = SendMessage(m);
  if (st.ok()) ++sent_;
  return st;
}

Status OpenChannel(const std::string& via, int timeout_seconds, std::unique_ptr<Channel>* out) {
  SmtpOptions o;
  o.timeout_seconds = timeout_seconds;
  return OpenChannel(via, o, out);
}

Status SmtpOptionsFromSettings(Store& store, SmtpOptions* out) {
  std::string timeout = "30", from;
  store.GetSetting("smtp_timeout_seconds", &timeout);
  store.GetSetting("smtp_tls", &out->tls);
  store.GetSetting("smtp_ca_file", &out->ca_file);
  store.GetSetting("smtp_user", &out->user);
  store.GetSetting("smtp_password_from", &from);
  out->timeout_seconds = std::stoi(timeout);
  if (out->user.empty()) return Status::Ok();
  if (from.rfind("env:", 0) == 0) {
    const char* v = std::getenv(from.substr(4).c_str());
    if (!v || !*v)
      return Status::BadInput("smtp_password_from: the environment variable " + from.substr(4) + " is not set");
    out->password = v;
  } else if (from.rfind("file:", 0) == 0) {
    std::ifstream in(from.substr(5));
    if (!in || !std::getline(in, out->password) || out->password.empty())
      return Status::BadInput("smtp_password_from: cannot read a password from " + from.substr(5));
    if (!out->password.empty() && out->password.back() == '\r') out->password.pop_back();
  } else {
    return Status::BadInput("smtp_user is set: set smtp_password_from to file:PATH or env:NAME");
  }
  return Status::Ok();
}

Status OpenChannel(const std::string& via, const SmtpOptions& smtp, std::unique_ptr<Channel>* out) {
  if (via.rfind("jsonl:", 0) == 0) {
    std::string path = via.substr(6);
    if (path.empty()) return Status::BadInput("--via 'jsonl:' needs a path (expected jsonl:PATH or smtp://HOST[:PORT])");
    *out = std::make_unique<JsonlChannel>(path);
    return Status::Ok();
  }
  const std::string accepted = " (expected jsonl:PATH or smtp://HOST[:PORT])";
  CURLU* u = curl_url();
  CURLUcode rc = curl_url_set(u, CURLUPART_URL, via.c_str(), 0);
  char *scheme = nullptr, *host = nullptr;
  if (rc == CURLUE_OK) rc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
  if (rc == CURLUE_OK) rc = curl_url_get(u, CURLUPART_HOST, &host, 0);
  std::string s = scheme ? scheme : "", h = host ? host : "";
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
  if (rc != CURLUE_OK) return Status::BadInput("--via '" + via + "': " + curl_url_strerror(rc) + accepted);
  if (s != "smtp" && s != "smtps") return Status::BadInput("--via '" + via + "': scheme '" + s + "' is not supported" + accepted);
  if (h.empty()) return Status::BadInput("--via '" + via + "': no host" + accepted);
  *out = std::make_unique<SmtpChannel>(via, smtp);
  return Status::Ok();
}

std::string MessageIdFor(const ReminderRecord& r, const std::string& mail_from) {
  auto at = mail_from.find('@');
  std::string domain = at == std::string::npos ? "mentorflow.invalid" : mail_from.substr(at + 1);
  return "<reminder-" + std::to_string(r.id) + "." + r.on + "@" + domain + ">";
}

std::string EncodeHeaderWord(const std::string& utf8) {
  // Encoded words of at most 75 characters: 45 bytes of text each, never
  // splitting a UTF-8 character; folded onto continuation lines.
  std::string out;
  size_t pos = 0;
  while (pos < utf8.size()) {
    size_t end = std::min(pos + 45, utf8.size());
    while (end < utf8.size() && end > pos && (static_cast<unsigned char>(utf8[end]) & 0xC0) == 0x80) --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64(utf8.substr(pos, end - pos)) + "?=";
    pos = end;
  }
  return out;
}

std::string BuildMimeMessage(const OutgoingMessage& m) {
  std::string body = Base64(m.text);
  std::string wrapped;
  for (size_t i = 0; i < body.size(); i += 76) wrapped += body.substr(i, 76) + "\r\n";
  std::string to = m.to_name.empty() ? "<" + m.to_email + ">" : EncodeHeaderWord(m.to_name) + " <" + m.to_email + ">";
  return "Date: " + m.date + "\r\n" + "From: <" + m.from + ">\r\n" + "To: " + to + "\r\n" +
         "Subject: " + EncodeHeaderWord(m.subject) + "\r\n" + "Message-ID: " + m.message_id + "\r\n" +
         "MIME-Version: 1.0\r\n" + "Content-Type: text/plain; charset=UTF-8\r\n" +
         "Content-Transfer-Encoding: base64\r\n" + "X-Mentorflow-Reminder: " + std::to_string(m.reminder) + "\r\n" +
         "\r\n" + wrapped;
}

Status DeliverPending(Store& store, Channel& channel, const Now& now, DeliveryReport* report, int limit,
                      bool* more) {
  if (more) *more = false;
  int claimed = 0;
  std::string from;
  if (Status s = store.GetSetting("mail_from", &from); !s.ok()) return s;
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  const std::string claimer = std::string(host) + ":" + std::to_string(getpid());
  std::string claim_timeout = "600", smtp_timeout = "30";
  store.GetSetting("deliver_claim_timeout_seconds", &claim_timeout);
  store.GetSetting("smtp_timeout_seconds", &smtp_timeout);
  // A claim may be taken over once it is older than the claim timeout: every
  // message of a batch must be on its way well before. So a batch sends only
  // while even the slowest answer (smtp_timeout) would end within half of it;
  // what is left goes back and is claimed afresh.
  const auto budget = std::chrono::seconds(std::max<long long>(1, std::stoll(claim_timeout)) / 2);
  const auto slowest = std::chrono::seconds(std::max<long long>(1, std::stoll(smtp_timeout)));
  const long long per_claim = 50;
  std::string last_error;
  for (;;) {
    std::vector<ReminderRecord> batch;
    long long want = per_claim;
    if (limit > 0) {
      if (claimed >= limit) {
        if (more) *more = true;
        return Status::Ok();
      }
      want = std::min<long long>(want, limit - claimed);
    }
    if (Status s = store.ClaimForDelivery(now, claimer, static_cast<int>(want), &batch); !s.ok()) return s;
    claimed += static_cast<int>(batch.size());
    if (batch.empty()) {
      if (report->sent == 0 && report->failed + report->dead > 0)
        return Status::Internal("nothing could be sent (" + std::to_string(report->failed + report->dead) +
                                " tried): " + last_error);
      return Status::Ok();
    }
    // Sent one after another over one connection (libcurl keeps it open
    // between messages), each recorded as soon as it is answered: a process
    // killed mid-batch sends again at most the one message it had in flight.
    std::vector<Store::DeliveryAnswer> answers;
    bool unreachable = false;
    const auto claimed_at = std::chrono::steady_clock::now();
    for (size_t k = 0; k < batch.size() && !unreachable; ++k) {
      if (k > 0 && std::chrono::steady_clock::now() - claimed_at + slowest > budget) break;
      const ReminderRecord& r = batch[k];
      OutgoingMessage m{r.id, MessageIdFor(r, from), from, r.to_email, r.to_name, r.to, r.subject, r.text,
                        Rfc5322Date(now.instant), r};
      Status sent = channel.Send(m);
      std::vector<Store::DeliveryAnswer> one{{r.id, {sent.ok(), sent.code() == Code::kBadInput, sent.message()}, ""}};
      Status recorded = store.FinishDeliveries(&one, claimer, now);
      if (!recorded.ok() && recorded.code() != Code::kConflict) return recorded;
      answers.push_back(std::move(one[0]));
      unreachable = !sent.ok() && channel.ServerUnreachable();
    }
    for (size_t k = 0; k < answers.size(); ++k) {
      const ReminderRecord& r = batch[k];
      const auto& a = answers[k];
      if (a.new_status.empty()) continue;  // no longer this claimer's: whoever holds it records it
      report->lines.push_back({r.id, r.to, a.new_status, a.outcome.error});
      if (a.outcome.delivered) {
        ++report->sent;
        spdlog::info("deliver [{}]: reminder {} to {} via {}: sent", store.institution(), r.id, r.to, channel.Describe());
      } else {
        a.new_status == "dead" ? ++report->dead : ++report->failed;
        last_error = a.outcome.error;
        spdlog::warn("deliver [{}]: reminder {} to {} via {}: {} ({})", store.institution(), r.id, r.to,
                     channel.Describe(), a.new_status, a.outcome.error);
      }
    }
    if (!unreachable && answers.size() < batch.size()) {  // out of time: the rest go back, untried
      spdlog::info("deliver [{}]: {} claim(s) given back untried, to be claimed afresh (claim timeout)",
                   store.institution(), batch.size() - answers.size());
      for (size_t rest = answers.size(); rest < batch.size(); ++rest)
        if (Status s = store.ReleaseDelivery(batch[rest].id, claimer); !s.ok()) return s;
      claimed -= static_cast<int>(batch.size() - answers.size());
      continue;
    }
    if (unreachable) {
      // Waiting once per reminder on a server that does not answer would
      // hold the claims past their timeout: the rest wait for the next run.
      for (size_t rest = answers.size(); rest < batch.size(); ++rest)
        if (Status s = store.ReleaseDelivery(batch[rest].id, claimer); !s.ok()) return s;
      return Status::Internal(channel.Describe() + " did not answer (" + last_error +
                              "): gave up after the first failure; the rest stay pending for the next run");
    }
  }
}

}  // namespace mentorflow
