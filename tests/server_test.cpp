// `mentorflow serve` through real sockets on loopback, on both backends:
// invitations, passwords, logins and sessions (OWASP ASVS 5.0 V6, V7),
// CSRF (V3.5), what each person may read (404 for what is not theirs, as
// for what does not exist), hostile input, and many clients at once.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/serve_client.h"
#include "tests/store_fixture.h"

extern char** environ;

namespace mentorflow::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kPassword = "тихий вечер у реки";

class Serve : public CliDatabase {
 protected:
  void SetUp() override {
    CliDatabase::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    for (const char* p : {"m1 --name 'Анна Смирнова' --role mentor --birth 1990-03-01 --email m1@example.org",
                          "m2 --name 'Илья Орлов' --role mentor --birth 1991-01-01 --email m2@example.org",
                          "g1 --name 'Ольга Иванова' --role guardian --birth 1985-01-01 --email g1@example.org",
                          "g2 --name 'Елена Орлова' --role guardian --birth 1986-01-01 --email g2@example.org",
                          "s1 --name 'Петя Иванов' --role mentee --birth 2013-04-02 --guardian g1",
                          "s2 --name 'Маша Орлова' --role mentee --birth 2012-06-07 --guardian g2"})
      ASSERT_EQ(Db(std::string("person add ") + p + MF_PAPERS " --as c1", kDay).code, 0) << p;
    for (const char* p : {"m1", "m2", "g1", "g2"}) ASSERT_EQ(Db(std::string("consent sign ") + p + " --as " + p, kDay).code, 0);
    ASSERT_EQ(Db("consent sign s1 --as g1", kDay).code, 0);
    ASSERT_EQ(Db("consent sign s2 --as g2", kDay).code, 0);
    ASSERT_EQ(Db("consent sign s2 --as s2", kDay).code, 0);  // 14: beside her mother
    ProgrammeAtWork(kDay);
    pair1_ = Started("start mentoring_pair --as c1 --set mentor=m1 --set mentee=s1 --set guardian=g1 --set form=speed "
                     "--set kind=volunteer_pupil");
    pair2_ = Started("start mentoring_pair --as c1 --set mentor=m2 --set mentee=s2 --set guardian=g2 --set form=speed "
                     "--set kind=volunteer_pupil");
    scratch_ = ::testing::TempDir() + "/mf_serve_" + std::to_string(getpid());
    fs::create_directories(scratch_);
  }
  void TearDown() override {
    server_.reset();
    if (!scratch_.empty()) fs::remove_all(scratch_);
  }
  std::string Started(const std::string& args) {
    auto r = Db(args, kDay);
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }
  void StartServer(const std::string& now = kDayTime, std::vector<std::string> extra = {}) {
    server_.reset();
    server_ = std::make_unique<ServerProcess>(db_->url(), now, extra);
    port_ = server_->port();
  }
  Client NewClient(const std::string& address = "10.0.0.1") const { return Client{&port_, address, "", ""}; }

  // The link of the last account e-mail to `person`, as `deliver` sends it.
  std::string LinkToken(const std::string& person, const std::string& now = kDay) {
    const std::string file = scratch_ + "/mail.jsonl";
    auto d = Db("deliver --via jsonl:" + file, now);
    EXPECT_EQ(d.code, 0) << d.err;
    std::ifstream in(file);
    std::string line, token;
    while (std::getline(in, line)) {
      json j = json::parse(line);
      std::smatch m;
      const std::string text = j["text"];
      if (j["to"] == person && std::regex_search(text, m, std::regex("token=([A-Za-z0-9_-]{22})"))) token = m[1];
    }
    return token;
  }
  // Invites `person` (by c1), sets `password` through the link.
  void Account(const std::string& person, const std::string& password = kPassword) {
    ASSERT_EQ(Db("person invite " + person + " --as c1", kDay).code, 0);
    const std::string token = LinkToken(person);
    ASSERT_EQ(token.size(), 22u);
    auto a = NewClient().Post("/api/v1/account/password", {{"token", token}, {"password", password}}, false);
    ASSERT_EQ(a.status, 200) << a.text;
  }
  Client LoggedIn(const std::string& person, const std::string& address = "10.0.0.1") {
    Client c = NewClient(address);
    auto a = c.Login(person, kPassword);
    EXPECT_EQ(a.status, 200) << person << ": " << a.text;
    return c;
  }
  // The dump, less what reads and sessions write (a recorded read, a session's last use).
  std::string ChangesDump() {
    std::istringstream in(DumpTables(db_->url()));
    std::string line, out, table;
    while (std::getline(in, line)) {
      if (line.rfind("## ", 0) == 0) table = line;
      if (table == "## sessions" && line != table) continue;
      if (table == "## person_history" && line.find("|read|") != std::string::npos) continue;
      out += line + "\n";
    }
    return out;
  }

  static constexpr const char* kDay = "2026-09-01";
  static constexpr const char* kDayTime = "2026-09-01T10:00";
  std::string pair1_, pair2_, scratch_;
  std::unique_ptr<ServerProcess> server_;
  int port_ = 0;
};

// ASVS 5.0 V6.4 (invitation), V7.2 (a new token at login, logout ends it on
// the server), V3.3 (__Host- cookie, Secure, HttpOnly, SameSite=Strict).
TEST_P(Serve, InvitedPersonSetsAPasswordLogsInActsAndLogsOut) {
  StartServer();
  Account("m1");
  Client m1 = NewClient();
  auto login = m1.Login("M1@Example.org", kPassword);  // by e-mail, any case
  ASSERT_EQ(login.status, 200) << login.text;
  EXPECT_EQ(login.body["person"], "m1");
  EXPECT_NE(login.cookie.find("__Host-mf_session="), std::string::npos);
  for (const char* flag : {"; Path=/", "; Secure", "; HttpOnly", "; SameSite=Strict"})
    EXPECT_NE(login.cookie.find(flag), std::string::npos) << login.cookie;
  EXPECT_EQ(login.cookie.find("Domain"), std::string::npos);
  EXPECT_EQ(m1.token.size(), 22u);
  auto who = m1.Get("/api/v1/session");
  EXPECT_EQ(who.status, 200);
  EXPECT_EQ(who.body["name"], "Анна Смирнова");
  auto pair = m1.Get("/api/v1/instances/" + pair1_);
  ASSERT_EQ(pair.status, 200) << pair.text;
  EXPECT_EQ(pair.body["fields"]["mentor"], "m1");
  // A second login is a new token.
  Client again = NewClient();
  ASSERT_EQ(again.Login("m1", kPassword).status, 200);
  EXPECT_NE(again.token, m1.token);
  ASSERT_EQ(m1.Post("/api/v1/logout", json::object()).status, 200);
  EXPECT_EQ(m1.Get("/api/v1/session").status, 401);
  EXPECT_EQ(again.Get("/api/v1/session").status, 200) << "logout ends this session only";
  // The link was used: it does not work twice.
  Db("person invite m2 --as c1", kDay);
  const std::string token = LinkToken("m2");
  ASSERT_EQ(NewClient().Post("/api/v1/account/password", {{"token", token}, {"password", kPassword}}).status, 200);
  auto twice = NewClient().Post("/api/v1/account/password", {{"token", token}, {"password", "другой пароль у реки"}});
  EXPECT_EQ(twice.status, 404) << twice.text;
}

TEST_P(Serve, AnInvitationExpiresAfter72Hours) {
  ASSERT_EQ(Db("person invite m1 --as c1", kDay).code, 0);
  const std::string token = LinkToken("m1");
  StartServer("2026-09-04T10:01");  // 72 hours and a minute after 2026-09-01 10:00? the invitation was at 00:00
  auto late = NewClient().Post("/api/v1/account/password", {{"token", token}, {"password", kPassword}});
  EXPECT_EQ(late.status, 404) << late.text;
  StartServer("2026-09-03T23:59");
  EXPECT_EQ(NewClient().Post("/api/v1/account/password", {{"token", token}, {"password", kPassword}}).status, 200);
}

TEST_P(Serve, WeakPasswordsAreRefusedAndLongOnesTaken) {
  StartServer();
  ASSERT_EQ(Db("person invite m1 --as c1", kDay).code, 0);
  const std::string token = LinkToken("m1");
  for (const std::string& weak : {std::string("short"), std::string("password"), std::string("12345678"),
                                  std::string("qwertyuiop")}) {
    auto a = NewClient().Post("/api/v1/account/password", {{"token", token}, {"password", weak}});
    EXPECT_EQ(a.status, 400) << weak << ": " << a.text;
    EXPECT_EQ(a.body["error"]["rule"], "password") << weak;
  }
  const std::string long_one(100, 'x');  // 64 and more are taken (no composition rules) -- but not a run of one letter
  const std::string sentence = "у лукоморья дуб зелёный, златая цепь на дубе том: и днём и ночью кот учёный всё ходит";
  auto a = NewClient().Post("/api/v1/account/password", {{"token", token}, {"password", sentence}});
  EXPECT_EQ(a.status, 200) << a.text;
  EXPECT_EQ(NewClient().Login("m1", sentence).status, 200);
}

TEST_P(Serve, SessionsEndWhenIdleAndAtTheAbsoluteLimit) {
  StartServer("2026-09-01T10:00");
  Account("m1");
  Client c = LoggedIn("m1");
  StartServer("2026-09-01T10:29");
  EXPECT_EQ(c.Get("/api/v1/session").status, 200) << "29 minutes idle";
  StartServer("2026-09-01T11:00");
  EXPECT_EQ(c.Get("/api/v1/session").status, 401) << "31 minutes idle";
  ASSERT_EQ(Db("settings session_idle_minutes 1000 --as d1", kDay).code, 0);
  StartServer("2026-09-01T12:00");
  Client d = LoggedIn("m1");
  StartServer("2026-09-01T23:59");
  EXPECT_EQ(d.Get("/api/v1/session").status, 200) << "11 h 59 min after login";
  StartServer("2026-09-02T00:01");
  EXPECT_EQ(d.Get("/api/v1/session").status, 401) << "12 h 1 min after login";
}

TEST_P(Serve, APasswordChangeARemovedRoleARevokedConsentAndErasureEndSessions) {
  StartServer();
  Account("m1");
  Account("m2");
  Account("g2");
  Client m1 = LoggedIn("m1"), other = LoggedIn("m1", "10.0.0.2");
  auto wrong = m1.Post("/api/v1/account/change-password", {{"current", "не тот"}, {"password", "новый пароль у реки"}});
  EXPECT_EQ(wrong.status, 401) << wrong.text;
  auto changed = m1.Post("/api/v1/account/change-password", {{"current", kPassword}, {"password", "новый пароль у реки"}});
  ASSERT_EQ(changed.status, 200) << changed.text;
  EXPECT_EQ(other.Get("/api/v1/session").status, 401) << "the other session ended";
  EXPECT_EQ(m1.Get("/api/v1/session").status, 401) << "so did this one: it has a new cookie";
  Client fresh = NewClient();
  EXPECT_EQ(fresh.Login("m1", kPassword).status, 401);
  EXPECT_EQ(fresh.Login("m1", "новый пароль у реки").status, 200);

  Client m2 = LoggedIn("m2");
  ASSERT_EQ(Db("person update m2 --add-role guardian --as c1", kDay).code, 0);
  EXPECT_EQ(m2.Get("/api/v1/session").status, 200) << "an added role ends nothing";
  ASSERT_EQ(Db("person update m2 --remove-role guardian --as c1", kDay).code, 0);
  EXPECT_EQ(m2.Get("/api/v1/session").status, 401);

  Client g2 = LoggedIn("g2");
  ASSERT_EQ(Db("consent revoke g2 --as g2", kDay).code, 0);
  EXPECT_EQ(g2.Get("/api/v1/session").status, 401);
  Client g2again = LoggedIn("g2");
  ASSERT_EQ(Db("person erase g2 --as c1", kDay).code, 0) << "consent revoked: the data may be destroyed";
  EXPECT_EQ(g2again.Get("/api/v1/session").status, 401);
  EXPECT_EQ(NewClient().Login("g2", kPassword).status, 401) << "the account went with the data";
}

// ASVS 5.0 V6.3: the same answer, and a throttle the attacker cannot turn
// against the owner.
TEST_P(Serve, UnknownAccountAndWrongPasswordLookAlikeAndFailuresAreThrottled) {
  StartServer();
  Account("m1");
  auto unknown = NewClient().Login("nobody@example.org", "что-то не то");
  auto wrong = NewClient().Login("m1", "что-то не то");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.status, wrong.status);
  EXPECT_EQ(unknown.text, wrong.text);
  Client attacker = NewClient("10.9.9.9");
  int throttled = 0, refused = 0;
  for (int i = 0; i < 30; ++i) {
    auto a = attacker.Login("m1", "угадай " + std::to_string(i));
    if (a.status == 429) ++throttled;
    if (a.status == 401) ++refused;
    if (a.status == 429) {
      EXPECT_EQ(a.body["error"]["rule"], "throttled");
    }
  }
  EXPECT_LE(refused, 5) << "at most 5 guesses from one address";
  EXPECT_EQ(refused + throttled, 30);
  EXPECT_EQ(attacker.Login("m1", kPassword).status, 429) << "not even the right one from there";
  Client owner = NewClient("10.1.1.1");
  EXPECT_EQ(owner.Login("m1", kPassword).status, 200) << "the owner, from another address, is not locked out";
}

TEST_P(Serve, ForgotPasswordAnswersAlikeAndSendsAFreshLink) {
  StartServer();
  Account("m1");
  auto known = NewClient().Post("/api/v1/account/forgot", {{"login", "m1@example.org"}}, false);
  auto unknown = NewClient().Post("/api/v1/account/forgot", {{"login", "who@example.org"}}, false);
  EXPECT_EQ(known.status, 200);
  EXPECT_EQ(known.text, unknown.text);
  const std::string token = LinkToken("m1");
  ASSERT_EQ(token.size(), 22u);
  ASSERT_EQ(NewClient().Post("/api/v1/account/password", {{"token", token}, {"password", "сброшенный пароль реки"}}).status,
            200);
  EXPECT_EQ(NewClient().Login("m1", "сброшенный пароль реки").status, 200);
  // The link is not kept in the outbox once sent, and nobody lists it.
  EXPECT_EQ(DumpTables(db_->url()).find(token), std::string::npos);
  EXPECT_EQ(Json("reminders --as c1", kDay).dump().find("password?token"), std::string::npos);
}

// ASVS 5.0 V3.5: every change needs the session's token; no GET changes anything.
TEST_P(Serve, AChangeWithoutTheCsrfTokenIsRefusedAndGetsChangeNothing) {
  StartServer();
  Account("m1");
  Account("c1");
  Client c1 = LoggedIn("c1");
  const std::string before = DumpTables(db_->url());
  auto no_token = c1.Post("/api/v1/instances/" + pair1_ + "/events", {{"event", "submit"}}, false);
  EXPECT_EQ(no_token.status, 403) << no_token.text;
  EXPECT_EQ(no_token.body["error"]["rule"], "csrf");
  Client forged = c1;
  forged.csrf = "AAAAAAAAAAAAAAAAAAAAAA";
  EXPECT_EQ(forged.Post("/api/v1/people", {{"id", "x1"}, {"name", "Икс"}, {"roles", {"mentor"}}}).status, 403);
  EXPECT_EQ(DumpTables(db_->url()), before);

  // A crawl of every GET route, as each person.
  Account("g1");
  for (const std::string who : {"c1", "m1", "g1", "d1"}) {
    if (who == "d1") {
      ASSERT_EQ(Db("person update d1 --email d1@example.org --as d1", kDay).code, 0);
      Account("d1");
    }
    const std::string base = ChangesDump();
    Client c = LoggedIn(who);
    for (const std::string& path : std::vector<std::string>{"/api/v1/session", "/api/v1/instances", "/api/v1/instances/" + pair1_, "/api/v1/instances/" + pair1_ + "/history",
          "/api/v1/instances/" + pair1_ + "/documents", "/api/v1/documents", "/api/v1/people/s1",
          "/api/v1/people/s1/export", "/api/v1/agenda", "/api/v1/reminders", "/api/v1/stats/annual?year=2026",
          "/api/v1/stats/monitoring?period=2026-H2", "/api/v1/openapi.json"})
      EXPECT_LT(c.Get(path).status, 500) << who << " " << path;
    const std::string after = ChangesDump();
    if (after != base) {  // say which lines, not the whole dump
      std::istringstream a(base), b(after);
      std::set<std::string> before_lines, after_lines;
      for (std::string l; std::getline(a, l);) before_lines.insert(l);
      for (std::string l; std::getline(b, l);) after_lines.insert(l);
      for (const auto& l : after_lines)
        if (!before_lines.count(l)) ADD_FAILURE() << who << ": a GET added: " << l.substr(0, 200);
      for (const auto& l : before_lines)
        if (!after_lines.count(l)) ADD_FAILURE() << who << ": a GET removed: " << l.substr(0, 200);
    }
  }
}

// What is not theirs answers exactly as what does not exist (404), and no
// body names anyone else.
TEST_P(Serve, NobodyReadsWhatIsNotTheirs) {
  StartServer();
  Account("m2");
  Account("g2");
  Account("c1");
  for (const std::string who : {"m2", "g2"}) {
    Client c = LoggedIn(who);
    for (const std::string& path : std::vector<std::string>{"/api/v1/instances/" + pair1_, "/api/v1/instances/" + pair1_ + "/history",
          "/api/v1/instances/" + pair1_ + "/documents", "/api/v1/people/s1", "/api/v1/people/m1",
          "/api/v1/people/s1/export"}) {
      auto a = c.Get(path);
      EXPECT_EQ(a.status, 404) << who << " " << path << ": " << a.text;
      for (const char* name : {"Петя Иванов", "Анна Смирнова", "Ольга Иванова", "2013-04-02", "m1@example.org"})
        EXPECT_EQ(a.text.find(name), std::string::npos) << who << " " << path;
    }
    // Another's reminders and agenda answer as a person who does not exist would.
    for (const std::string what : {"reminders", "agenda"}) {
      auto theirs = c.Get("/api/v1/" + what + "?person=s1"), nobody = c.Get("/api/v1/" + what + "?person=zz9");
      EXPECT_EQ(theirs.status, nobody.status) << what;
      EXPECT_EQ(theirs.text, nobody.text) << what;
      EXPECT_GE(theirs.status, 400) << what;
    }
    auto missing = c.Get("/api/v1/instances/999");
    auto theirs = c.Get("/api/v1/instances/" + pair1_);
    EXPECT_EQ(missing.status, theirs.status);
    auto list = c.Get("/api/v1/instances?workflow=mentoring_pair");
    ASSERT_EQ(list.status, 200);
    ASSERT_EQ(list.body.size(), 1u) << who << " sees their own pair only";
    EXPECT_EQ(list.body[0]["id"], pair2_);
    EXPECT_EQ(c.Post("/api/v1/instances/" + pair1_ + "/events", {{"event", "submit"}}).status, 404);
  }
  // A curator may not make herself, or anyone, director.
  Client c1 = LoggedIn("c1");
  const std::string before = DumpTables(db_->url());
  auto grant = c1.Post("/api/v1/people/m1", {{"add_roles", {"director"}}});
  EXPECT_EQ(grant.status, 403) << grant.text;
  auto self = c1.Post("/api/v1/people/c1", {{"add_roles", {"director"}}});
  EXPECT_EQ(self.status, 403) << self.text;
  EXPECT_EQ(DumpTables(db_->url()), before);
}

TEST_P(Serve, HostileInputIsRefusedAndChangesNothing) {
  StartServer("2026-09-01T10:00", {"--max-body", "65536", "--timeout", "2"});
  Account("c1");
  Client c1 = LoggedIn("c1");
  const std::string before = ChangesDump();
  httplib::Client raw("127.0.0.1", server_->port());
  raw.set_read_timeout(30, 0);
  auto headers = c1.Headers(true);
  auto bad_utf8 = raw.Post("/api/v1/people", headers, "{\"id\":\"x1\",\"name\":\"\xff\xfe\",\"roles\":[\"mentor\"]}",
                           "application/json");
  ASSERT_TRUE(bad_utf8);
  EXPECT_EQ(bad_utf8->status, 400) << bad_utf8->body;
  auto control = c1.Post("/api/v1/people", {{"id", "x1"}, {"name", "Икс\u0001\nforged"}, {"roles", {"mentor"}}});
  EXPECT_EQ(control.status, 400) << control.text;
  auto not_json = raw.Post("/api/v1/people", headers, "id=x1&name=X", "application/x-www-form-urlencoded");
  ASSERT_TRUE(not_json);
  EXPECT_EQ(not_json->status, 400);
  auto huge = raw.Post("/api/v1/people", headers, std::string(200000, 'x'), "application/json");
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->status, 413);
  for (const std::string path : {"/api/v1/instances/../people/s1", "/api/v1/%2e%2e/people", "/api/v1/instances/1/../../x"}) {
    auto a = c1.Get(path);
    EXPECT_TRUE(a.status == 404 || a.status == 400) << path << ": " << a.status;
  }
  // A slow client: headers never finished are given up after the timeout.
  const int s = Connect(server_->port());
  ASSERT_GE(s, 0);
  const std::string partial = "POST /api/v1/login HTTP/1.1\r\nHost: x\r\n";
  ASSERT_GT(::send(s, partial.data(), partial.size(), 0), 0);
  const auto t0 = std::chrono::steady_clock::now();
  char buf[256];
  timeval tv{20, 0};
  ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const ssize_t n = ::recv(s, buf, sizeof buf, 0);
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(s);
  const std::string answer = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  EXPECT_TRUE(n <= 0 || answer.rfind("HTTP/1.1 4", 0) == 0) << "an answer to a request never sent in full: " << answer;
  EXPECT_LT(waited, 15.0) << "the connection was not given up";
  EXPECT_EQ(ChangesDump(), before);
  EXPECT_EQ(c1.Get("/api/v1/session").status, 200) << "the server still serves";
}

TEST_P(Serve, SigningThroughTheApiNeedsThePasswordAndSigns) {
  StartServer();
  Account("m1");
  Account("c1");
  Client c1 = LoggedIn("c1");
  ASSERT_EQ(c1.Post("/api/v1/instances/" + pair1_ + "/events", {{"event", "submit"}}).status, 200);
  Client m1 = LoggedIn("m1");
  const std::string doc = "/api/v1/documents/" + pair1_ + ":agreement/sign";
  EXPECT_EQ(m1.Post(doc, {{"password", "не тот"}}).status, 403);
  auto signed_ = m1.Post(doc, {{"password", kPassword}});
  ASSERT_EQ(signed_.status, 200) << signed_.text;
  auto shown = m1.Get("/api/v1/documents/" + pair1_ + ":agreement");
  ASSERT_EQ(shown.status, 200) << shown.text;
  bool signed_by_m1 = false;
  for (const auto& s : shown.body["signers"]) signed_by_m1 = signed_by_m1 || (s["person"] == "m1" && !s["signed_at"].is_null());
  EXPECT_TRUE(signed_by_m1) << shown.text;
  auto html = m1.Get("/api/v1/documents/" + pair1_ + ":agreement/render.html");
  EXPECT_EQ(html.status, 200);
  EXPECT_NE(html.text.find("Анна Смирнова"), std::string::npos);
}

TEST_P(Serve, SixteenClientsActAtOnceWithoutErrorsOrLostWrites) {
  // 16 pairs, each with its mentor; each client submits its pair and signs its agreement.
  StartServer("2026-09-01T10:00");
  Account("c1");
  constexpr int kClients = 16;
  std::vector<std::string> pairs;
  for (int i = 0; i < kClients; ++i) {
    const std::string m = "mm" + std::to_string(i), s = "ss" + std::to_string(i);
    ASSERT_EQ(Db("person add " + m + MF_PAPERS " --name 'Наставник " + std::to_string(i) + "' --role mentor --birth 1990-01-01 --email " +
                     m + "@example.org --as c1", kDay).code, 0);
    ASSERT_EQ(Db("person add " + s + MF_PAPERS " --name 'Наставляемый " + std::to_string(i) + "' --role mentee --birth 2000-01-01 --as c1",
                 kDay).code, 0);
    ASSERT_EQ(Db("consent sign " + m + " --as " + m, kDay).code, 0);
    ASSERT_EQ(Db("consent sign " + s + " --as " + s, kDay).code, 0);
    pairs.push_back(Started("start mentoring_pair --as c1 --set mentor=" + m + " --set mentee=" + s +
                            " --set form=speed --set kind=volunteer_pupil"));
    Account(m);
  }
  Client c1 = LoggedIn("c1");
  std::vector<Client> mentors;
  for (int i = 0; i < kClients; ++i) mentors.push_back(LoggedIn("mm" + std::to_string(i), "10.0.1." + std::to_string(i)));
  std::atomic<int> errors{0}, ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i)
    threads.emplace_back([&, i] {
      auto sub = c1.Post("/api/v1/instances/" + pairs[i] + "/events", {{"event", "submit"}});
      if (sub.status >= 500 || sub.status == 0) ++errors;
      auto sig = mentors[i].Post("/api/v1/documents/" + pairs[i] + ":agreement/sign", {{"password", kPassword}});
      if (sig.status >= 500 || sig.status == 0) ++errors;
      if (sub.status == 200 && sig.status == 200) ++ok;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(ok, kClients);
  for (const auto& id : pairs) {
    const auto history = Json("history " + id + " --as d1", kDay);
    int submits = 0, signs = 0;
    for (const auto& e : history) {
      submits += e["event"] == "submit";
      signs += e["event"] == "sign";
    }
    EXPECT_EQ(submits, 1) << id;
    EXPECT_EQ(signs, 1) << id;
  }
}

TEST_P(Serve, SigtermLetsARequestUnderWayFinish) {
  StartServer();
  // A request half sent when SIGTERM comes: the rest arrives after it, and
  // the answer is still given in full; then the process ends, exit 0.
  const int s = Connect(server_->port());
  ASSERT_GE(s, 0);
  const std::string body = "{\"login\": \"nobody@example.org\"}";
  const std::string head = "POST /api/v1/account/forgot HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                           "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  ASSERT_GT(::send(s, head.data(), head.size(), 0), 0);
  ASSERT_GT(::send(s, body.data(), 10, 0), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  server_->Signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_GT(::send(s, body.data() + 10, body.size() - 10, 0), 0);
  std::string answer;
  char buf[1024];
  timeval tv{10, 0};
  ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (ssize_t n; (n = ::recv(s, buf, sizeof buf, 0)) > 0;) answer.append(buf, static_cast<size_t>(n));
  ::close(s);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_NE(answer.find("a link is on its way"), std::string::npos) << answer;
  const int status = server_->Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_NE(NewClient().Get("/api/v1/openapi.json").status, 200) << "it stopped listening";
}

// A private calendar URL: the person's agenda for a calendar app, without
// the cookie; a new URL replaces the old one, and revoking stops it.
TEST_P(Serve, APrivateCalendarUrlServesOnesAgendaUntilRevoked) {
  ASSERT_EQ(Db("start monitoring --as c1", kDay).code, 0);
  StartServer();
  Account("c1");
  Client c1 = LoggedIn("c1");
  auto path = [](const Answer& a) {
    const std::string url = a.body.value("url", "");
    return url.substr(url.find("/api/v1/"));
  };
  auto first = c1.Post("/api/v1/calendar", json::object());
  ASSERT_EQ(first.status, 201) << first.text;
  auto ics = NewClient().Get(path(first));
  ASSERT_EQ(ics.status, 200) << ics.text;
  EXPECT_NE(ics.text.find("BEGIN:VCALENDAR"), std::string::npos);
  EXPECT_NE(ics.text.find("BEGIN:VEVENT"), std::string::npos) << "the monitoring's deadline is on the curator's agenda";
  auto second = c1.Post("/api/v1/calendar", json::object());
  ASSERT_EQ(second.status, 201);
  EXPECT_NE(path(second), path(first));
  EXPECT_EQ(NewClient().Get(path(first)).status, 404) << "the new URL replaced the old one";
  EXPECT_EQ(NewClient().Get(path(second)).status, 200);
  ASSERT_EQ(c1.Post("/api/v1/calendar/revoke", json::object()).status, 200);
  EXPECT_EQ(NewClient().Get(path(second)).status, 404);
  EXPECT_EQ(NewClient().Get("/api/v1/calendar/" + std::string(22, 'A') + ".ics").status, 404);
}

// Time inside the server: two servers on one database, each ticking every
// second and delivering to its own file, fire each deadline once and send
// each reminder once between them.
TEST_P(Serve, TwoServersTickingAndDeliveringNeverDoAnythingTwice) {
  ASSERT_EQ(Db("start monitoring --as c1", kDay).code, 0);
  ASSERT_EQ(Db("start monitoring --as c1", kDay).code, 0);
  const std::string a = scratch_ + "/a.jsonl", b = scratch_ + "/b.jsonl";
  {
    ServerProcess one(db_->url(), "2026-12-21", {"--tick-every", "1s", "--deliver-via", "jsonl:" + a});
    ServerProcess two(db_->url(), "2026-12-21", {"--tick-every", "1s", "--deliver-via", "jsonl:" + b});
    std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  }
  std::multiset<long long> ids;
  for (const auto& file : {a, b}) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) ids.insert(json::parse(line)["id"].get<long long>());
  }
  const auto sent = Json("reminders --as d1 --status sent", "2026-12-21");
  EXPECT_GE(sent.size(), 4u) << "each monitoring's reminders to both curators came due and went";
  EXPECT_EQ(ids.size(), sent.size()) << "every sent reminder is in one file";
  for (long long id : ids) EXPECT_EQ(ids.count(id), 1u) << "reminder " << id << " was sent twice";
  for (const auto& m : Json("list --workflow monitoring", "2026-12-21")) {
    int overdue = 0;
    for (const auto& e : Json("history " + m["id"].get<std::string>() + " --as d1", "2026-12-21"))
      overdue += e["event"] == "overdue";
    EXPECT_EQ(overdue, 1) << "instance " << m["id"];
  }
}

// The OpenAPI document validates with a real validator (swagger-parser, npm),
// and every route it lists answers (none is the router's "no such route").
TEST_P(Serve, TheOpenApiDocumentValidatesAndEveryRouteInItAnswers) {
  const std::string validator = SourcePath("tests/web/validate_openapi.js");
  if (!fs::exists(SourcePath("tests/web/node_modules/@apidevtools/swagger-parser"))) {
    if (std::getenv("CI") && std::string(std::getenv("CI")) == "true") FAIL() << "CI=true: run make web-deps (npm ci)";
    GTEST_SKIP() << "tests/web/node_modules missing: make web-deps";
  }
  StartServer();
  Account("c1");
  Client c1 = LoggedIn("c1");
  auto doc = NewClient().Get("/api/v1/openapi.json");
  ASSERT_EQ(doc.status, 200);
  const std::string file = scratch_ + "/openapi.json";
  std::ofstream(file) << doc.text;
  const std::string cmd = "node '" + validator + "' '" + file + "' 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int rc = ::pclose(p);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("valid: mentorflow API"), std::string::npos) << out;
  int routes = 0;
  for (auto path = doc.body["paths"].begin(); path != doc.body["paths"].end(); ++path) {
    std::string url = path.key();
    for (auto [param, value] : {std::pair<std::string, std::string>{"{id}", pair1_}, {"{doc}", pair1_ + ":agreement"},
                                {"{token}", std::string(22, 'A')}, {"{format}", "html"},
                                {"{export}", "csv"}}) {
      if (auto at = url.find(param); at != std::string::npos) url.replace(at, param.size(), value);
    }
    for (auto op = path.value().begin(); op != path.value().end(); ++op) {
      if (op.key() == "post" && (url.find("/logout") != std::string::npos || url.find("/erase") != std::string::npos))
        continue;  // answered below by their own tests; here they would end the session or the data
      Answer a = op.key() == "get" ? c1.Get(url + (url.find("annual") != std::string::npos ? "?year=2026" : ""))
                                   : c1.Post(url, json::object());
      ++routes;
      EXPECT_NE(a.status, 0) << op.key() << " " << url;
      EXPECT_LT(a.status, 500) << op.key() << " " << url << ": " << a.text;
      EXPECT_FALSE(a.status == 404 && a.body.is_object() && a.body["error"].value("rule", "") == "route")
          << op.key() << " " << url << " is in the document but not served";
    }
  }
  EXPECT_GE(routes, 30);
  // And the router has nothing the document leaves out: an unknown route is the router's 404.
  auto none = c1.Get("/api/v1/nothing-here");
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(none.body["error"]["rule"], "route");
}

// The pages: no session sends to the login page; every form carries the
// CSRF token (before a session, the double-submit form cookie; ASVS 5.0
// V3.5.1/V3.5.2); pages are read-only; what is not one's own is the Russian
// «Не найдено» with nobody's name; the curator's search keeps the name out
// of the URL (POST) and finds on both backends.
TEST_P(Serve, PagesNeedASessionTheirFormsTheTokenAndShowingThemChangesNothing) {
  StartServer();
  Account("c1");
  Account("m1");
  httplib::Client http("127.0.0.1", port_);
  http.set_read_timeout(60, 0);
  auto html = [](const httplib::Result& r) { return r ? r->body : std::string(); };
  auto meta_csrf = [](const std::string& page) {
    std::smatch m;
    return std::regex_search(page, m, std::regex(R"(<meta name="csrf" content="([A-Za-z0-9_-]+)\">)")) ? m[1].str()
                                                                                                         : std::string();
  };
  // No session: to the login page, for a page and for a form.
  for (const std::string& path : std::vector<std::string>{"/", "/instances/" + pair1_, "/people", "/workflows/mentoring_pair"}) {
    auto r = http.Get(path.c_str());
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 303) << path;
    EXPECT_EQ(r->get_header_value("Location"), "/login") << path;
  }
  // The login form: its token is also a cookie; without them, refused.
  auto form = http.Get("/login");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 200);
  EXPECT_NE(form->get_header_value("Content-Type").find("text/html"), std::string::npos);
  const std::string form_token = meta_csrf(form->body);
  ASSERT_EQ(form_token.size(), 22u);
  EXPECT_NE(form->get_header_value("Set-Cookie").find("__Host-mf_form=" + form_token + "; Path=/; Secure; HttpOnly; SameSite=Strict"),
            std::string::npos);
  httplib::Params creds = {{"login", "c1"}, {"password", kPassword}};
  auto refused = http.Post("/login", creds);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  EXPECT_NE(refused->body.find("Форма устарела"), std::string::npos);
  EXPECT_EQ(refused->get_header_value("Set-Cookie").find("__Host-mf_session"), std::string::npos);
  httplib::Params with_token = creds;
  with_token.emplace("csrf", form_token);
  auto in = http.Post("/login", {{"Cookie", "__Host-mf_form=" + form_token}}, with_token);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->status, 303) << in->body;
  EXPECT_EQ(in->get_header_value("Location"), "/");
  std::smatch m;
  const std::string set_cookie = in->get_header_value("Set-Cookie");
  ASSERT_TRUE(std::regex_search(set_cookie, m, std::regex("__Host-mf_session=([A-Za-z0-9_-]+)"))) << set_cookie;
  const httplib::Headers c1 = {{"Cookie", "__Host-mf_session=" + m[1].str()}};

  // Every page the curator has, read-only.
  const std::string base = ChangesDump();
  std::string csrf;
  for (const std::string& path :
       std::vector<std::string>{"/", "/people", "/people/s1", "/workflows/mentoring_pair", "/instances/" + pair1_,
                                "/account", "/workflows/individual_plan?parent=" + pair1_}) {
    auto r = http.Get(path.c_str(), c1);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path << ": " << r->body.substr(0, 400);
    EXPECT_NE(r->get_header_value("Content-Type").find("text/html"), std::string::npos) << path;
    csrf = meta_csrf(r->body);
    EXPECT_EQ(csrf.size(), 22u) << path;
  }
  EXPECT_EQ(ChangesDump(), base) << "showing pages changed something";
  const std::string pairs = html(http.Get("/workflows/mentoring_pair", c1));
  for (const char* shown : {"Предложена куратором", "Анна Смирнова", "Маша Орлова"})
    EXPECT_NE(pairs.find(shown), std::string::npos) << shown;
  auto svg = http.Get("/diagrams/mentoring_pair/5/proposed.svg", c1);
  ASSERT_TRUE(svg);
  EXPECT_EQ(svg->status, 200);
  EXPECT_NE(svg->body.find("<svg"), std::string::npos);
  EXPECT_EQ(svg->get_header_value("Content-Type"), "image/svg+xml");
  auto css = http.Get("/static/style.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->status, 200);
  EXPECT_EQ(http.Get("/static/../server.cpp")->status, 404);
  auto nowhere = http.Get("/no/such/page", c1);
  EXPECT_EQ(nowhere->status, 404);
  EXPECT_NE(nowhere->body.find("Не найдено"), std::string::npos);

  // The search posts the name, with the token; it is not in any URL.
  auto found = http.Post("/people/search", c1, httplib::Params{{"csrf", csrf}, {"q", "Анна"}});
  ASSERT_TRUE(found);
  EXPECT_EQ(found->status, 200);
  EXPECT_NE(found->body.find("Анна Смирнова"), std::string::npos);
  EXPECT_EQ(found->body.find("Илья Орлов"), std::string::npos);
  auto by_role = http.Post("/people/search", c1, httplib::Params{{"csrf", csrf}, {"role", "guardian"}});
  EXPECT_NE(by_role->body.find("Ольга Иванова"), std::string::npos);
  EXPECT_EQ(by_role->body.find("Анна Смирнова"), std::string::npos);

  // A form without its token changes nothing; with it, the event is sent.
  const std::string before = DumpTables(db_->url());
  auto no_token = http.Post(("/instances/" + pair1_ + "/send").c_str(), c1, httplib::Params{{"event", "submit"}});
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->status, 403);
  EXPECT_EQ(DumpTables(db_->url()), before);
  auto sent = http.Post(("/instances/" + pair1_ + "/send").c_str(), c1, httplib::Params{{"event", "submit"}, {"csrf", csrf}});
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->status, 303) << sent->body.substr(0, 400);
  EXPECT_EQ(json::parse(Db("show " + pair1_ + " --as c1 --json", kDay).out, nullptr, false).value("state", ""),
            "documents");

  // A mother reads the consent she is about to give for her child (its text
  // rendered, nothing stored), then signs it with her password.
  ASSERT_EQ(Db("person add s3" MF_PAPERS " --name 'Юля Иванова' --role mentee --birth 2015-01-01 --guardian g1 --as c1", kDay).code, 0);
  Account("g1");
  Client g1 = LoggedIn("g1");
  const httplib::Headers gh = {{"Cookie", "__Host-mf_session=" + g1.token}};
  const std::string quiet = ChangesDump();
  auto consent_page = http.Get("/people/s3", gh);
  ASSERT_TRUE(consent_page);
  EXPECT_EQ(consent_page->status, 200);
  EXPECT_NE(consent_page->body.find("Текст согласия"), std::string::npos);
  EXPECT_NE(consent_page->body.find("Юля Иванова"), std::string::npos);
  EXPECT_EQ(ChangesDump(), quiet) << "reading the consent to sign stored something";
  auto wrong = http.Post("/people/s3/consent", gh,
                         httplib::Params{{"csrf", g1.csrf}, {"given", "1"}, {"password", "не тот пароль"}});
  EXPECT_EQ(wrong->status, 403);
  EXPECT_EQ(ChangesDump(), quiet);
  auto given = http.Post("/people/s3/consent", gh, httplib::Params{{"csrf", g1.csrf}, {"given", "1"}, {"password", kPassword}});
  EXPECT_EQ(given->status, 303) << given->body.substr(0, 400);
  EXPECT_NE(Db("doc show consent:s3 --as c1", kDay).out.find("guardian of s3"), std::string::npos);
  // Issue 26, build 3: a consent signed here states the addresses and the
  // documents (152-FZ art. 9 part 4). For a child registered without them
  // the page lists what is missing, offers no signature, and a signature
  // posted anyway is refused with nothing written; the mother records
  // them through the page's form (its token needed), and then signs.
  ASSERT_EQ(Db("person add s5 --name 'Лиза Иванова' --role mentee --birth 2016-01-01 --guardian g1 --as c1", kDay).code, 0);
  auto lacking = http.Get("/people/s5", gh);
  ASSERT_TRUE(lacking);
  for (const char* shown : {"Пока не хватает", "Лиза Иванова: <a href=\"/people/s5#h-particulars\">адрес места жительства</a>",
                            "документ, подтверждающий полномочия законного представителя", "Сведения для согласия"})
    EXPECT_NE(lacking->body.find(shown), std::string::npos) << shown;
  EXPECT_EQ(lacking->body.find("id=\"consent-password\""), std::string::npos) << "no signature to give";
  auto anyway = http.Post("/people/s5/consent", gh, httplib::Params{{"csrf", g1.csrf}, {"given", "1"}, {"password", kPassword}});
  EXPECT_EQ(anyway->status, 422);
  EXPECT_NE(anyway->body.find("В согласии должны быть указаны адреса и документы"), std::string::npos);
  const std::string blank = DumpTables(db_->url());
  const httplib::Params papers = {{"address", "г. Саратов, ул. Лесная, д. 1"}, {"document_kind", "свидетельство о рождении"},
                                  {"document_number", "I-РУ 101010"}, {"document_issued", "2016-01-20"},
                                  {"document_issuer", "ЗАГС г. Саратова"}, {"authority", "свидетельство о рождении I-РУ 101010"}};
  auto untokened = http.Post("/people/s5/particulars", gh, papers);
  EXPECT_EQ(untokened->status, 403);
  EXPECT_TRUE(DumpTables(db_->url()) == blank) << "a form without its token changed the database";
  httplib::Params tokened = papers;
  tokened.emplace("csrf", g1.csrf);
  auto recorded = http.Post("/people/s5/particulars", gh, tokened);
  EXPECT_EQ(recorded->status, 303) << recorded->body.substr(0, 400);
  auto ready = http.Get("/people/s5", gh);
  EXPECT_NE(ready->body.find("I-РУ 101010"), std::string::npos) << "the text to sign states it";
  EXPECT_NE(ready->body.find("id=\"consent-password\""), std::string::npos);
  EXPECT_EQ(http.Post("/people/s5/consent", gh, httplib::Params{{"csrf", g1.csrf}, {"given", "1"}, {"password", kPassword}})->status,
            303);
  // Through the API the same: hers and her child's to record, nothing else.
  EXPECT_EQ(g1.Get("/api/v1/people/s5").body.value("document_number", ""), "I-РУ 101010");
  EXPECT_EQ(g1.Post("/api/v1/people/g1", {{"address", "г. Саратов, ул. Лесная, д. 1"}}).status, 200);
  const std::string recorded_own = DumpTables(db_->url());
  EXPECT_EQ(g1.Post("/api/v1/people/g1", {{"name", "Другое Имя"}}).status, 403);
  EXPECT_EQ(g1.Post("/api/v1/people/m1", {{"address", "г. Саратов"}}).status, 403);
  EXPECT_TRUE(DumpTables(db_->url()) == recorded_own) << "a refused change changed the database";
  // Issue 26: a teenager's consent the mother signed waits for the
  // teenager's own signature, and the page says so.
  ASSERT_EQ(Db("person add s4" MF_PAPERS " --name 'Оля Иванова' --role mentee --birth 2011-01-01 --guardian g1 --as c1", kDay).code, 0);
  auto teen = http.Post("/people/s4/consent", gh, httplib::Params{{"csrf", g1.csrf}, {"given", "1"}, {"password", kPassword}});
  EXPECT_EQ(teen->status, 303) << teen->body.substr(0, 400);
  auto awaiting = http.Get("/people/s4", gh);
  EXPECT_NE(awaiting->body.find("Оно вступит в силу со второй подписью"), std::string::npos);
  EXPECT_EQ(awaiting->body.find("Текст согласия, которое вы подписываете"), std::string::npos)
      << "nothing more for the mother to sign for mentoring";
  // Issue 26, build 1: the consents of the other purposes are each their
  // own, offered beside it (the mother may give them for her daughter).
  EXPECT_NE(awaiting->body.find("Согласия для других целей"), std::string::npos);
  EXPECT_NE(awaiting->body.find("Текст согласия: Региональный отбор «IT-регион»"), std::string::npos);
  EXPECT_NE(awaiting->body.find("name=\"purpose\" value=\"portfolio\""), std::string::npos);
  auto portfolio = http.Post("/people/s4/consent", gh,
                             httplib::Params{{"csrf", g1.csrf}, {"given", "1"}, {"purpose", "portfolio"}, {"password", kPassword}});
  EXPECT_EQ(portfolio->status, 303) << portfolio->body.substr(0, 400);
  EXPECT_NE(Db("doc show consent:s4:2 --as c1 --json", kDay).out.find("\"purpose\": \"portfolio\""), std::string::npos);
  EXPECT_EQ(Json("doc show consent:s4:1 --as c1", kDay)["status"], "partly_signed") << "mentoring's unchanged";

  // The mentor: another pair is «Не найдено», and names no one; the people
  // list is not theirs either.
  Client m1 = LoggedIn("m1");
  const httplib::Headers mh = {{"Cookie", "__Host-mf_session=" + m1.token}};
  for (const std::string& path :
       std::vector<std::string>{"/instances/" + pair2_, "/people", "/people/s2", "/documents/" + pair2_ + ":agreement"}) {
    auto r = http.Get(path.c_str(), mh);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_NE(r->body.find("Не найдено"), std::string::npos) << path;
    for (const char* name : {"Илья", "Маша", "Елена", "m2", "s2"})
      EXPECT_EQ(r->body.find(name), std::string::npos) << path << " shows " << name;
  }
  auto own = http.Get(("/instances/" + pair1_).c_str(), mh);
  EXPECT_EQ(own->status, 200);
}

INSTANTIATE_TEST_SUITE_P(Backends, Serve, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace mentorflow::testing
