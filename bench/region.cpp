// bench/region: a region on one PostgreSQL (issue 27).
//
// I institutions of P stored instances each (default 1 000 x 500: 500 000
// instances with their history entry, timer and reminder): each institution
// is made by `init` through the store with one information_support instance
// started, which SQL then copies P-1 times within that institution. Measured
// in the same run, against baselines of the same run:
//
//   1. One event (`publish`, through the store, its own transaction) in one
//      institution, with row security forced on every table and then
//      disabled (by the superuser), alternated three times: ms per event and
//      the ratio on/off (aim <= 1.1).
//   2. `tick` (the command, no --institution-id) over every institution,
//      firing D due timers spread over all of them (D/I each), with 1 and
//      with 4 processes; beside it a database of one institution holding
//      the same I*P instances and D due: timers/s and the ratio region /
//      single (aim >= 1), and each tick process's peak RSS.
//   3. The same event through PgBouncer in transaction mode (?pool=transaction,
//      MENTORFLOW_TEST_PGBOUNCER from scripts/with-postgres.sh) against a
//      direct connection: the ratio.
//   4. The regional centre's roll-up of a year (`region rollup`, the command)
//      over every institution's signed annual report: seconds (aim < 5) and
//      peak RSS, beside one institution's own `stats annual` of its 500
//      instances in the same run.
//
//   bench_region [INSTITUTIONS] [PER_INSTITUTION] [DUE]   (default 1000 500 5000)
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "bench/support.h"
#include "storage/store.h"

extern char** environ;

namespace mf = mentorflow;
using Clock = std::chrono::steady_clock;

namespace {

using mf::bench::At;
using mf::bench::Check;

std::string Id(int k) {
  char id[12];
  std::snprintf(id, sizeof id, "r%04d", k);
  return id;
}

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// `institutions` institutions of `per` instances each, `due` of all of them
// due on 8 September 2026 and `due` more on the 15th (the rest a year
// later), spread evenly.
void Build(const std::string& url, int institutions, int per, int due) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("mf_bench_region_wf_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(MENTORFLOW_SOURCE_DIR "/workflows/information_support.yaml", dir / "information_support.yaml",
                             std::filesystem::copy_options::overwrite_existing);
  auto catalog = mf::Catalog::Load({dir.string()}, mf::LoadOptions{MENTORFLOW_SOURCE_DIR "/templates"});
  mf::Status st;
  auto store = mf::Store::Open(url, &st, {MENTORFLOW_SOURCE_DIR "/templates", false, Id(0)});
  Check(st, "open");
  for (int k = 0; k < institutions; ++k) {
    Check(store->UseInstitution(Id(k)), "use");
    mf::Store::InitOptions init = mf::bench::DirectorD1();
    init.zone = "Europe/Moscow";
    Check(store->Init(catalog, At("2026-09-01"), nullptr, init), "init");
    Check(store->AddPerson({"c1", "Куратор", {"curator"}, "", "", "c1@example.org"}, "d1", At("2026-09-01")), "person");
    mf::InstanceRecord rec;
    mf::Refusal refusal;
    Check(store->Start("information_support", {}, "", "c1", At("2026-09-01"), &rec, &refusal), "start");
  }
  store.reset();
  std::filesystem::remove_all(dir);
  // The copies, institution by institution (row security wants each row's
  // own institution set).
  for (int k = 0; k < institutions; ++k) {
    const std::string id = Id(k);
    soci::session s(soci::postgresql, mf::PostgresConnectionString(url, id));
    // `d` due on the 8th (fired by the first tick), `d` more on the 15th
    // (the second, with the escalations of the first `d`).
    const long long n = per, d = due / institutions + (k < due % institutions ? 1 : 0), d2 = 2 * d;
    s << "BEGIN";
    s << "INSERT INTO instances (institution, id, workflow, workflow_version, state, fields, parent, version, created,"
         " updated) SELECT i.institution, CAST(g AS TEXT), i.workflow, i.workflow_version, i.state, i.fields,"
         " i.parent, i.version, i.created, i.updated FROM instances i, generate_series(2, :n) g WHERE i.id = '1'",
        soci::use(n);
    s << "INSERT INTO history (institution, instance, seq, at, actor, role, event, from_state, to_state, changes,"
         " workflow_version, note) SELECT h.institution, CAST(g AS TEXT), h.seq, h.at, h.actor, h.role, h.event,"
         " h.from_state, h.to_state, h.changes, h.workflow_version, h.note FROM history h, generate_series(2, :n) g"
         " WHERE h.instance = '1'",
        soci::use(n);
    s << "INSERT INTO timers (institution, instance, timer_key, state, event, due, recipients) SELECT t.institution,"
         " CAST(g AS TEXT), t.timer_key, t.state, t.event, CASE WHEN g <= :d THEN t.due WHEN g <= :d2"
         " THEN '2026-09-15' ELSE '2027-09-08' END, t.recipients FROM timers t, generate_series(2, :n) g"
         " WHERE t.instance = '1'",
        soci::use(d), soci::use(d2), soci::use(n);
    if (d == 0) s << "UPDATE timers SET due = '2027-09-08' WHERE instance = '1'";
    s << "INSERT INTO reminders (institution, instance, workflow, reminder_key, send_on, recipient, kind, deadline,"
         " event, template, subject, body, status, tries, created) SELECT r.institution, CAST(g AS TEXT), r.workflow,"
         " r.reminder_key, CASE WHEN g <= :d THEN r.send_on WHEN g <= :d2 THEN '2026-09-13' ELSE '2027-09-06' END,"
         " r.recipient, r.kind, CASE WHEN g <= :d THEN r.deadline WHEN g <= :d2 THEN '2026-09-15' ELSE"
         " '2027-09-08' END, r.event, r.template, r.subject, r.body, r.status, r.tries, r.created"
         " FROM reminders r, generate_series(2, :n) g WHERE r.instance = '1'",
        soci::use(d), soci::use(d2), soci::use(d), soci::use(d2), soci::use(n);
    if (d == 0) s << "UPDATE reminders SET send_on = '2027-09-06', deadline = '2027-09-08' WHERE instance = '1'";
    s << "UPDATE counters SET value = :n WHERE name = 'instance'", soci::use(n);
    s << "COMMIT";
  }
  // As autovacuum would after such a load (the superuser: every table).
  const std::string super = std::getenv("MENTORFLOW_TEST_PG_SUPER");
  soci::session s(soci::postgresql,
                  mf::PostgresConnectionString(super.substr(0, super.rfind('/') + 1) + url.substr(url.rfind('/') + 1)));
  s << "ANALYZE";
}

// Seconds per `publish` to `count` instances from `first` on, in institution `id`.
double Events(const std::string& url, const std::string& id, int first, int count) {
  mf::Status st;
  auto store = mf::Store::Open(url, &st, {MENTORFLOW_SOURCE_DIR "/templates", false, id});
  Check(st, "open");
  const auto t0 = Clock::now();
  for (int i = first; i < first + count; ++i) {
    mf::InstanceRecord rec;
    mf::Refusal refusal;
    Check(store->Send(std::to_string(i), "publish", {{"last_url", "https://example.org/" + std::to_string(i)}}, "c1",
                      At("2026-09-17"), &rec, &refusal),
          "publish");
  }
  return Since(t0) / count;
}

void RowSecurity(const std::string& url, bool on) {
  const std::string super = std::getenv("MENTORFLOW_TEST_PG_SUPER");
  soci::session s(soci::postgresql,
                  mf::PostgresConnectionString(super.substr(0, super.rfind('/') + 1) + url.substr(url.rfind('/') + 1)));
  std::vector<std::string> tables;
  soci::rowset<std::string> rs = (s.prepare << "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                                               " AND tablename <> 'schema_version'");
  for (const auto& t : rs) tables.push_back(t);
  for (const auto& t : tables) {
    s << "ALTER TABLE " + t + (on ? " ENABLE" : " DISABLE") + " ROW LEVEL SECURITY";
    s << "ALTER TABLE " + t + (on ? " FORCE" : " NO FORCE") + " ROW LEVEL SECURITY";
  }
}

struct Ticks {
  double seconds = 0;
  long long fired = 0;
  long peak_kb = 0;
};

// `processes` ticks at once (the command) at `now`: what they fired.
Ticks TickProcesses(const std::string& url, int processes, const std::string& now) {
  std::vector<pid_t> pids;
  std::vector<std::string> outs;
  const auto t0 = Clock::now();
  for (int p = 0; p < processes; ++p) {
    outs.push_back((std::filesystem::temp_directory_path() /
                    ("mf_bench_region_tick_" + std::to_string(getpid()) + "_" + std::to_string(p))).string());
    const std::string cmd = std::string("exec '") + MENTORFLOW_BINARY + "' --db '" + url +
                            "' --now " + now + " tick --per-turn 50 > '" + outs.back() + "'";
    const char* argv[] = {"sh", "-c", cmd.c_str(), nullptr};
    pid_t pid = 0;
    if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) != 0)
      Check(mf::Status::Internal("spawn"), "tick");
    pids.push_back(pid);
  }
  Ticks t;
  for (pid_t pid : pids) {
    int status = 0;
    struct rusage ru {};
    wait4(pid, &status, 0, &ru);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) Check(mf::Status::Internal("a tick failed"), "tick");
    t.peak_kb = std::max(t.peak_kb, ru.ru_maxrss);
  }
  t.seconds = Since(t0);
  for (const auto& f : outs) {
    std::FILE* in = std::fopen(f.c_str(), "r");
    char line[4096];
    while (in && std::fgets(line, sizeof line, in)) {
      long long n = 0;
      if (std::sscanf(line, "%lld deadline(s) fired", &n) == 1) t.fired += n;
    }
    if (in) std::fclose(in);
    std::filesystem::remove(f);
  }
  return t;
}

// A regional centre `centre` with its specialist r1, and a signed annual
// report for 2026 from every other institution, its figures varying.
void Reports(const std::string& url, int institutions) {
  auto catalog = mf::Catalog::Load({MENTORFLOW_SOURCE_DIR "/workflows"}, mf::LoadOptions{MENTORFLOW_SOURCE_DIR "/templates"});
  mf::Status st;
  auto store = mf::Store::Open(url, &st, {MENTORFLOW_SOURCE_DIR "/templates", false, "centre"});
  Check(st, "open");
  mf::Store::InitOptions init = mf::bench::DirectorD1();
  init.regional = true;
  Check(store->Init(catalog, At("2026-09-01"), nullptr, init), "init the centre");
  Check(store->AddPerson({"r1", "Специалист", {"regional"}, "", "", "r1@example.org"}, "d1", At("2026-09-01")), "r1");
  store.reset();
  const std::string super = std::getenv("MENTORFLOW_TEST_PG_SUPER");
  soci::session s(soci::postgresql,
                  mf::PostgresConnectionString(super.substr(0, super.rfind('/') + 1) + url.substr(url.rfind('/') + 1)));
  std::string values;
  for (int k = 0; k < institutions; ++k) {
    const int m = 20 + k % 37, t = k % 9;
    char figures[1024];
    std::snprintf(figures, sizeof figures,
                  "{\"year\":2026,\"mentors\":%d,\"mentees\":%d,\"mentees_minors\":%d,\"pairs\":{\"formed\":%d,"
                  "\"active\":%d,\"completed\":%d,\"terminated\":%d,\"extended\":%d},\"by_form\":{\"virtual\":%d,"
                  "\"short_term\":%d},\"by_kind\":{\"volunteer_pupil\":%d},\"terminated_by_reason\":{\"mutual\":%d,"
                  "\"mentor_initiative\":%d},\"monitoring\":{\"due\":2,\"on_time\":%d,\"late\":%d,\"missed\":0}}",
                  m, m + 3, m - 5, m / 2, m + 3, m / 4, t, k % 6, m, 3, m + 3, t / 2, t - t / 2, 2 - k % 2, k % 2);
    values += std::string(values.empty() ? "" : ", ") + "('" + Id(k) + "', 2026, '1', 101, '" + figures +
              "', '2026-12-15T09:00:00Z', '2026-12-20T09:00:00Z')";
  }
  s << "INSERT INTO annual_reports (institution, year, instance, issue, figures, issued_at, signed_at) VALUES " + values;
  s << "ANALYZE annual_reports";
}

struct Timed {
  double seconds = 0;
  long peak_kb = 0;
};

// The command `args` on `url` (its output to /dev/null): seconds and peak RSS.
Timed Command(const std::string& url, const std::string& args) {
  const std::string cmd = std::string("exec '") + MENTORFLOW_BINARY + "' --db '" + url + "' " + args + " > /dev/null";
  const char* argv[] = {"sh", "-c", cmd.c_str(), nullptr};
  const auto t0 = Clock::now();
  pid_t pid = 0;
  if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) != 0)
    Check(mf::Status::Internal("spawn"), args.c_str());
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) Check(mf::Status::Internal("failed"), args.c_str());
  return {Since(t0), ru.ru_maxrss};
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  const int institutions = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int per = argc > 2 ? std::atoi(argv[2]) : 500;
  const int due = argc > 3 ? std::atoi(argv[3]) : 5000;
  if (!std::getenv("MENTORFLOW_TEST_PG") || !std::getenv("MENTORFLOW_TEST_PG_SUPER")) {
    std::printf("bench/region: needs PostgreSQL (run under scripts/with-postgres.sh)\n");
    return std::getenv("CI") && std::string(std::getenv("CI")) == "true" ? 1 : 0;
  }
  std::printf("bench/region: %d institutions x %d instances (%lld), %d due\n", institutions, per,
              static_cast<long long>(institutions) * per, due);
  const std::string region = mf::bench::FreshDatabase("postgresql", "mf_bench_region");
  auto t0 = Clock::now();
  Build(region, institutions, per, due);
  std::printf("  built in %.1f s\n", Since(t0));

  // 2. tick over the region and over one institution of the same size.
  const std::string single = mf::bench::FreshDatabase("postgresql", "mf_bench_region_single");
  t0 = Clock::now();
  Build(single, 1, institutions * per, due);
  std::printf("  built the single institution in %.1f s\n", Since(t0));
  for (int processes : {1, 4}) {
    const std::string now = processes == 1 ? "2026-09-09" : "2026-09-16";
    const Ticks r = TickProcesses(region, processes, now), s = TickProcesses(single, processes, now);
    const double rr = r.fired / r.seconds, sr = s.fired / s.seconds;
    std::printf("  tick, %d process(es): region %lld fired, %.0f timers/s (peak RSS %.1f MiB); one institution %lld"
                " fired, %.0f timers/s (peak RSS %.1f MiB); ratio %.2f%s\n",
                processes, r.fired, rr, r.peak_kb / 1024.0, s.fired, sr, s.peak_kb / 1024.0, rr / sr,
                rr / sr >= 1 ? "" : "  (below 1)");
  }
  // 1. One event, row security on and off, alternated.
  const std::string busy = Id(institutions / 2);
  int next = 2 * (due / institutions + 1) + 1;  // instances no tick touched
  const int events = std::max(2, std::min((per - next) / 10, 300));  // ten runs of them
  double on = 0, off = 0;
  for (int round = 0; round < 3; ++round) {
    RowSecurity(region, true);
    on += Events(region, busy, next, events);
    next += events;
    RowSecurity(region, false);
    off += Events(region, busy, next, events);
    next += events;
  }
  RowSecurity(region, true);
  std::printf("  one event: %.3f ms with row security, %.3f ms without; ratio %.2f%s\n", on / 3 * 1e3, off / 3 * 1e3,
              on / off, on / off <= 1.1 ? "" : "  (above 1.1)");

  // 3. Through PgBouncer (transaction mode) against direct.
  if (const char* bouncer = std::getenv("MENTORFLOW_TEST_PGBOUNCER"); bouncer && *bouncer) {
    const std::string pooled = "postgresql://mentorflow@" + std::string(bouncer) + "/" +
                               region.substr(region.rfind('/') + 1) + "?pool=transaction";
    double direct = 0, through = 0;
    for (int round = 0; round < 2; ++round) {
      direct += Events(region, busy, next, events);
      next += events;
      through += Events(pooled, busy, next, events);
      next += events;
    }
    std::printf("  one event through PgBouncer (transaction mode): %.3f ms, direct %.3f ms; ratio %.2f\n",
                through / 2 * 1e3, direct / 2 * 1e3, through / direct);
  }

  // 4. The regional centre's roll-up, beside one school's own figures.
  Reports(region, institutions);
  Timed rollup, csv, xlsx, school;
  for (int round = 0; round < 3; ++round) {
    const std::string centre = "--institution-id centre --now 2027-01-10T10:00 region rollup --year 2026 --as r1 ";
    const Timed j = Command(region, centre + "--json");
    const Timed c = Command(region, centre + "--format csv");
    const std::string out = (std::filesystem::temp_directory_path() / ("mf_bench_region_" + std::to_string(getpid()) +
                                                                       ".xlsx")).string();
    const Timed x = Command(region, centre + "--format xlsx --out " + out);
    std::filesystem::remove(out);
    const Timed one = Command(region, "--institution-id " + busy + " --now 2027-01-10T10:00 stats annual --year 2026 --json");
    if (round == 0 || j.seconds < rollup.seconds) rollup = j;
    if (round == 0 || c.seconds < csv.seconds) csv = c;
    if (round == 0 || x.seconds < xlsx.seconds) xlsx = x;
    if (round == 0 || one.seconds < school.seconds) school = one;
  }
  std::printf("  region rollup of %d signed reports: json %.3f s (peak RSS %.1f MiB), csv %.3f s, xlsx %.3f s%s;"
              " one school's stats annual %.3f s (peak RSS %.1f MiB); ratio %.2f\n",
              institutions, rollup.seconds, rollup.peak_kb / 1024.0, csv.seconds, xlsx.seconds,
              rollup.seconds < 5 ? "" : "  (aim < 5 s)", school.seconds, school.peak_kb / 1024.0,
              rollup.seconds / school.seconds);

  mf::bench::DropDatabase(single);
  mf::bench::DropDatabase(region);
  return 0;
}
