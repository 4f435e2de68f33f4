// bench/stats: `stats annual` at a regional scale.
//
// Generates PEOPLE = 2 x PAIRS people (every other one a minor) and PAIRS
// mentoring pairs with their histories in bulk (straight into the tables, as
// the store would have written them over three years: proposed, documents,
// approval, active, then completed, terminated on one of the grounds, or
// extended by a re-signed agreement; about 7 history entries a pair), plus a
// monitoring instance with its cycles. The history is written as a database
// of schema 8 holds it; `init` then upgrades it, which builds the pairs'
// facts from the history (migration 9, timed). Printed: the generation rate
// and the upgrade's; then,
// at PAIRS/5 and at PAIRS, the seconds of `mentorflow stats annual --year
// 2026 --json` (the real binary, best of 3), seconds per 100 000 pairs, and
// its peak RSS; the ratio of the two RSS figures (aim: <= 1.2, memory does
// not grow with the data) and whether the full size stays under 2 s on SQLite.
// SQLite always; PostgreSQL too when MENTORFLOW_TEST_PG is set.
//
//   bench_stats [PAIRS]   (default 500000: 1 000 000 people; MF_BENCH_KEEP=1 keeps the databases)
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "bench/support.h"
#include "tests/schema_v15.h"
#include "storage/store.h"

namespace mf = mentorflow;
using Clock = std::chrono::steady_clock;

namespace {

using mf::bench::Check;

const char* const kForms[] = {"virtual", "short_term", "reverse", "situational", "speed"};
const char* const kKinds[] = {"director_curator", "curator_educator", "educator_counsellor",
                              "counsellor_volunteer", "counsellor_pupil", "volunteer_pupil"};
const char* const kGrounds[] = {"mentor_initiative", "mentee_initiative", "mutual", "curator_initiative"};

std::string Day(int days_from_2024) {  // 2024-01-01 + n days, as an instant at 09:00 UTC
  using namespace date;
  const auto d = year_month_day{sys_days{2024_y / January / 1} + date::days{days_from_2024}};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT09:00:00Z", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                static_cast<unsigned>(d.day()));
  return buf;
}

// Rows of one table, bound as vectors and inserted in one statement per chunk.
struct Rows {
  std::vector<std::string> a, b, c, d, e, f, g;
  void clear() {
    for (auto* v : {&a, &b, &c, &d, &e, &f, &g}) v->clear();
  }
};

// Inserts people [from, to) and pairs [from/2, to/2) with their histories.
long long Generate(soci::session& s, long long from, long long to) {
  long long rows = 0;
  const long long chunk = 20000;
  for (long long lo = from; lo < to; lo += chunk) {
    const long long hi = std::min(to, lo + chunk);
    soci::transaction tx(s);
    Rows people, data;
    for (long long i = lo; i < hi; ++i) {
      char id[16];
      std::snprintf(id, sizeof id, "p%07lld", i);
      people.a.push_back(id);
      people.b.push_back(i % 2 == 0 ? "mentee" : "mentor");
      data.a.push_back(id);
      data.b.push_back("Участник " + std::to_string(i));
      // Mentees: half of them minors at the end of 2026.
      const int year = i % 2 == 1 ? 1980 + static_cast<int>(i % 20) : (i % 4 == 0 ? 2010 : 2000) + static_cast<int>(i % 7);
      data.c.push_back(std::to_string(year) + "-03-15");
    }
    s << "INSERT INTO people (institution, id, consent, created) VALUES ('default', :id, 1, '2024-01-01T00:00:00Z')", soci::use(people.a);
    s << "INSERT INTO person_roles (institution, person, role) VALUES ('default', :p, :r)", soci::use(people.a), soci::use(people.b);
    s << "INSERT INTO person_data (institution, id, name, birth) VALUES ('default', :id, :n, :b)", soci::use(data.a), soci::use(data.b),
        soci::use(data.c);
    rows += 3 * (hi - lo);
    Rows inst, hist;
    std::vector<long long> seq;
    for (long long i = lo / 2; i < hi / 2; ++i) {
      const std::string id = "b" + std::to_string(i);
      char mentor[16], mentee[16];
      std::snprintf(mentee, sizeof mentee, "p%07lld", 2 * i);
      std::snprintf(mentor, sizeof mentor, "p%07lld", 2 * i + 1);
      const int start = static_cast<int>(i * 7919 % 1000);  // spread over 2024 to late 2026
      const char* form = kForms[i % 5];
      const char* kind = kKinds[i % 6];
      std::vector<std::tuple<int, std::string, std::string, std::string, std::string>> h = {
          {start, "start", "", "proposed",
           std::string("[{\"after\":\"") + mentor + "\",\"before\":null,\"field\":\"mentor\"},{\"after\":\"" + mentee +
               "\",\"before\":null,\"field\":\"mentee\"},{\"after\":\"" + form +
               "\",\"before\":null,\"field\":\"form\"},{\"after\":\"" + kind +
               "\",\"before\":null,\"field\":\"kind\"},{\"after\":9,\"before\":null,\"field\":\"months\"},"
               "{\"after\":false,\"before\":null,\"field\":\"approved\"}]"},
          {start, "submit", "proposed", "documents", "[]"},
          {start + 3, "sign", "documents", "documents", "[]"},
          {start + 5, "ready", "documents", "approval", "[]"},
          {start + 7, "approve", "approval", "active",
           "[{\"after\":\"2027-06-01\",\"before\":null,\"field\":\"ends_on\"},{\"after\":true,\"before\":false,\"field\":\"approved\"}]"}};
      const int end = start + 7 + 60 + static_cast<int>(i % 300);
      switch (i % 20) {
        case 0: case 1: case 2: case 3: case 4:  // terminated, each ground in turn
          h.push_back({end, "terminate_by_curator", "active", "terminated",
                       std::string("[{\"after\":\"Причина\",\"before\":null,\"field\":\"termination_reason\"},"
                                   "{\"after\":\"") + kGrounds[i % 4] + "\",\"before\":null,\"field\":\"termination\"}]"});
          break;
        case 5:  // extended, then completed
          h.push_back({end - 30, "propose_change", "active", "change_proposed", "[]"});
          h.push_back({end - 28, "apply_change", "change_proposed", "change_signing", "[]"});
          h.push_back({end - 25, "change_signed", "change_signing", "active", "[]"});
          h.push_back({end + 60, "complete", "active", "completed", "[]"});
          break;
        case 6: case 7:  // still at work
          break;
        default:
          h.push_back({end, "complete", "active", "completed", "[]"});
      }
      inst.a.push_back(id);
      inst.b.push_back(std::get<3>(h.back()));
      inst.c.push_back(Day(start));
      for (size_t k = 0; k < h.size(); ++k) {
        hist.a.push_back(id);
        seq.push_back(static_cast<long long>(k + 1));
        hist.b.push_back(Day(std::get<0>(h[k])));
        hist.c.push_back(std::get<1>(h[k]));
        hist.d.push_back(std::get<2>(h[k]));
        hist.e.push_back(std::get<3>(h[k]));
        hist.f.push_back(std::get<4>(h[k]));
      }
    }
    if (!inst.a.empty()) {
      s << "INSERT INTO instances (institution, id, workflow, workflow_version, state, fields, version, created,"
           " updated) VALUES ('default', :id, 'mentoring_pair', 4, :st, '{}', 1, :c, :c2)",
          soci::use(inst.a), soci::use(inst.b), soci::use(inst.c), soci::use(inst.c);
      s << "INSERT INTO history (institution, instance, seq, at, actor, role, event, from_state, to_state, changes,"
           " workflow_version) VALUES ('default', :i, :s, :at, 'c1', 'curator', :e, :f, :t, :ch, 4)",
          soci::use(hist.a), soci::use(seq), soci::use(hist.b), soci::use(hist.c), soci::use(hist.d),
          soci::use(hist.e), soci::use(hist.f);
      rows += static_cast<long long>(inst.a.size() + hist.a.size());
    }
    tx.commit();
  }
  return rows;
}

// The monitoring: cycles from December 2024 to December 2026, one late, one missed.
void Monitoring(soci::session& s) {
  s << "INSERT INTO instances (institution, id, workflow, workflow_version, state, fields, version, created, updated)"
       " VALUES ('default', 'm1', 'monitoring', 4, 'collecting', '{}', 1, '2024-09-01T09:00:00Z', '2024-09-01T09:00:00Z')";
  const std::vector<std::tuple<std::string, std::string, std::string, std::string, std::string>> h = {
      {"2024-09-01T09:00:00Z", "start", "", "collecting", "[{\"after\":\"2024-12-20\",\"before\":null,\"field\":\"period\"}]"},
      {"2024-12-10T09:00:00Z", "submit", "collecting", "submitted", "[{\"after\":\"2024-12-20\",\"before\":null,\"field\":\"reported_period\"}]"},
      {"2024-12-21T09:00:00Z", "period_closed", "submitted", "collecting", "[{\"after\":\"2025-05-20\",\"before\":\"2024-12-20\",\"field\":\"period\"}]"},
      {"2025-05-21T09:00:00Z", "overdue", "collecting", "overdue", "[]"},
      {"2025-05-25T09:00:00Z", "submit", "overdue", "collecting", "[{\"after\":\"2025-05-20\",\"before\":\"2024-12-20\",\"field\":\"reported_period\"},{\"after\":\"2025-12-20\",\"before\":\"2025-05-20\",\"field\":\"period\"}]"},
      {"2025-12-10T09:00:00Z", "submit", "collecting", "submitted", "[{\"after\":\"2025-12-20\",\"before\":\"2025-05-20\",\"field\":\"reported_period\"}]"},
      {"2025-12-21T09:00:00Z", "period_closed", "submitted", "collecting", "[{\"after\":\"2026-05-20\",\"before\":\"2025-12-20\",\"field\":\"period\"}]"},
      {"2026-05-10T09:00:00Z", "submit", "collecting", "submitted", "[{\"after\":\"2026-05-20\",\"before\":\"2025-12-20\",\"field\":\"reported_period\"}]"},
      {"2026-05-21T09:00:00Z", "period_closed", "submitted", "collecting", "[{\"after\":\"2026-12-20\",\"before\":\"2026-05-20\",\"field\":\"period\"}]"},
      {"2026-12-21T09:00:00Z", "overdue", "collecting", "overdue", "[]"}};
  long long seq = 0;
  for (const auto& [at, event, from, to, changes] : h) {
    ++seq;
    s << "INSERT INTO history (institution, instance, seq, at, actor, role, event, from_state, to_state, changes,"
         " workflow_version) VALUES ('default', 'm1', :s, :at, 'c1', 'curator', :e, :f, :t, :ch, 4)",
        soci::use(seq), soci::use(at), soci::use(event), soci::use(from), soci::use(to), soci::use(changes);
  }
}

struct Measure {
  double seconds = 1e9;
  long rss_kb = 0;
  std::string out;
};

// `bench_stats --measure URL`: runs `stats annual` on URL as its child and
// writes the child's peak RSS (KiB) to fd 3; exits with the child's status.
// The bench starts the binary through this small fresh process because a
// child's peak RSS counts the memory of the process it was forked from, and
// the bench's own grows with the data it generated.
int MeasureChild(const char* url) {
  const pid_t pid = fork();
  if (pid == 0) {
    execl(MENTORFLOW_BINARY, "mentorflow", "--db", url, "--now", "2027-01-10", "stats", "annual", "--year", "2026",
          "--json", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  const std::string rss = std::to_string(ru.ru_maxrss);
  if (write(3, rss.data(), rss.size()) < 0) return 1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

// Runs the real binary `runs` times: the best wall time, the largest peak RSS.
Measure RunStats(const std::string& url, int runs) {
  Measure m;
  for (int r = 0; r < runs; ++r) {
    int out_pipe[2], rss_pipe[2];
    if (pipe(out_pipe) != 0 || pipe(rss_pipe) != 0) std::exit(1);
    const auto t0 = Clock::now();
    const pid_t pid = fork();
    if (pid == 0) {
      dup2(out_pipe[1], 1);
      dup2(rss_pipe[1], 3);
      close(out_pipe[0]);
      close(rss_pipe[0]);
      execl("/proc/self/exe", "bench_stats", "--measure", url.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out_pipe[1]);
    close(rss_pipe[1]);
    const std::string out = ReadAll(out_pipe[0]);
    const std::string rss = ReadAll(rss_pipe[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || rss.empty()) {
      std::fprintf(stderr, "stats annual failed (%d): %s\n", status, out.c_str());
      std::exit(1);
    }
    m.seconds = std::min(m.seconds, s);
    m.rss_kb = std::max(m.rss_kb, std::stol(rss));
    m.out = out;
  }
  return m;
}

// The database as schema 8 left it (no pair facts), then upgraded by init:
// the facts rebuilt from the history. Returns the seconds of the upgrade.
double Upgrade(soci::session& s, const std::string& url) {
  mf::testing::UndoInstitutions(s, url.rfind("sqlite:", 0) == 0);  // schema 16
  // What schemas 9 and later added goes too, as init re-creates it.
  for (const char* table : {"pair_facts", "data_tables", "person_attributes", "document_people", "sessions",
                            "account_tokens", "login_failures", "calendar_feeds", "accounts"})
    s << std::string("DROP TABLE IF EXISTS ") + table;
  for (const char* table : {"documents", "orders", "consents"})
    s << std::string("ALTER TABLE ") + table + " DROP COLUMN redacted_at";
  s << "DROP INDEX IF EXISTS consents_by_purpose";  // schema 14
  s << "ALTER TABLE consents DROP COLUMN purpose";
  for (const char* column : {"address", "document_kind", "document_number", "document_issued", "document_issuer", "authority"})
    s << std::string("ALTER TABLE person_data DROP COLUMN ") + column;  // schema 15
  s << "DELETE FROM schema_version WHERE version >= 9";
  // The store opens the file itself (and closes a descriptor of it, which
  // drops every POSIX lock this process holds on it): no other connection of
  // this process may be open then, or SQLite reports a disk I/O error.
  s.close();
  auto catalog = mf::Catalog::Load({MENTORFLOW_SOURCE_DIR "/workflows"}, mf::LoadOptions{MENTORFLOW_SOURCE_DIR "/templates"});
  mf::Status st;
  auto store = mf::Store::Open(url, &st, {MENTORFLOW_SOURCE_DIR "/templates"});
  Check(st, "open");
  const auto t0 = Clock::now();
  Check(store->Init(catalog, mf::Now::At(*mf::ParseLocalTime("2027-01-10", "UTC"), "UTC"), nullptr, {}), "upgrade");
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  store.reset();
  if (url.rfind("sqlite:", 0) == 0) s.open(soci::sqlite3, url.substr(7));
  else s.open(soci::postgresql, mf::PostgresConnectionString(url, "default"));
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--measure") return MeasureChild(argv[2]);
  spdlog::set_level(spdlog::level::warn);
  const long long pairs = argc > 1 ? std::atoll(argv[1]) : 500000;
  const long long small = pairs / 5;
  std::vector<std::string> backends = {"sqlite"};
  if (std::getenv("MENTORFLOW_TEST_PG")) backends.push_back("postgresql");
  std::printf("bench/stats: stats annual --year 2026 over %lld and %lld pairs (%lld and %lld people)\n", small, pairs,
              2 * small, 2 * pairs);
  for (const auto& b : backends) {
    const std::string url = mf::bench::FreshDatabase(b, "mf_bench_stats");
    {
      auto catalog = mf::Catalog::Load({MENTORFLOW_SOURCE_DIR "/workflows"}, mf::LoadOptions{MENTORFLOW_SOURCE_DIR "/templates"});
      mf::Status st;
      auto store = mf::Store::Open(url, &st, {MENTORFLOW_SOURCE_DIR "/templates"});
      Check(st, "open");
      mf::Store::InitOptions init;
      init.zone = "Europe/Moscow";
      init.director = {"d1", "Директор", {"director"}, "", "", ""};
      Check(store->Init(catalog, mf::Now::At(*mf::ParseLocalTime("2024-01-01", "UTC"), "UTC"), nullptr, init), "init");
    }
    soci::session s;
    if (b == "sqlite") s.open(soci::sqlite3, url.substr(7));
    else s.open(soci::postgresql, mf::PostgresConnectionString(url, "default"));
    Monitoring(s);
    Measure at[2];
    long long generated = 0, done = 0;
    double gen_seconds = 0, upgrade_seconds = 0;
    for (int k = 0; k < 2; ++k) {
      const long long target = 2 * (k == 0 ? small : pairs);
      const auto t0 = Clock::now();
      generated += Generate(s, done, target);
      gen_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
      done = target;
      upgrade_seconds = Upgrade(s, url);
      if (b == "postgresql") s << "ANALYZE";  // as autovacuum would after such a load
      at[k] = RunStats(url, 3);
    }
    std::printf("  %-10s generated %lld rows in %.1f s: %.0f rows/s, %.0f pairs/s\n", b.c_str(), generated, gen_seconds,
                generated / gen_seconds, pairs / gen_seconds);
    std::printf("  %-10s init upgraded %lld pairs (their facts from the history) in %.1f s: %.0f pairs/s\n", b.c_str(),
                pairs, upgrade_seconds, pairs / upgrade_seconds);
    for (int k = 0; k < 2; ++k) {
      const long long n = k == 0 ? small : pairs;
      std::printf("  %-10s %7lld pairs: %6.2f s, %5.3f s per 100 000 pairs, peak RSS %6.1f MiB\n", b.c_str(), n,
                  at[k].seconds, at[k].seconds / (n / 100000.0), at[k].rss_kb / 1024.0);
    }
    const double ratio = static_cast<double>(at[1].rss_kb) / static_cast<double>(at[0].rss_kb);
    std::printf("  %-10s RSS ratio %lld/%lld pairs: %.2f%s; time ratio %.2f for %.0fx the data%s\n", b.c_str(), pairs,
                small, ratio, ratio <= 1.2 ? "" : "  (above 1.2)", at[1].seconds / at[0].seconds,
                static_cast<double>(pairs) / small,
                b == "sqlite" && at[1].seconds >= 2.0 ? "  (full size above 2 s)" : "");
    std::printf("  %-10s figures: %s\n", b.c_str(), nlohmann::json::parse(at[1].out).dump().c_str());
    s.close();
    mf::bench::DropDatabase(url);
  }
  return 0;
}
