// bench/persist: events applied per second through the real storage, each
// beside the floor the database allows in the same run: the same number of
// plain SOCI inserts of a row the size of a history entry, with the same
// transaction pattern. Prints events/s and the ratio to the floor.
//
//   1. one transaction per event (what `mentorflow send` does), SQLite and PostgreSQL;
//   2. batch import: every event in one transaction (Store::Batch), on one
//      instance, and spread ten to an instance over EVENTS/10 instances (as
//      an import of a school's pairs and their records goes);
//   3. PostgreSQL, four processes at once, each on its own instance;
//   4. import-size series: `mentorflow import` of 10, 40 and 100 x EVENTS
//      JSON lines (20 000, 80 000, 200 000 by default) into a new SQLite
//      database (a start, then nine events on it, repeated); the time per
//      line must not grow with the file;
//   5. memory: peak RSS of a process sending events into a database holding
//      100 instances, then 50 x EVENTS (100 000 by default; it must not grow
//      with the database).
//
//   bench_persist [EVENTS]     (PostgreSQL parts when MENTORFLOW_TEST_PG is set;
//                               `make test` runs it once with EVENTS=40)
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "bench/support.h"
#include "storage/store.h"

namespace mf = mentorflow;
using Clock = std::chrono::steady_clock;

namespace {

using mf::bench::DirectorD1;

double Seconds(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }

const mf::Now kNow = mf::Now::At(*mf::ParseLocalTime("2026-09-01", ""), "");

bool IsSqlite(const std::string& url) { return url.rfind("sqlite:", 0) == 0; }

std::unique_ptr<soci::session> Raw(const std::string& url) {
  if (IsSqlite(url)) {
    auto s = std::make_unique<soci::session>(soci::sqlite3, "db=" + url.substr(7) + " timeout=30");
    *s << "PRAGMA journal_mode=WAL";
    *s << "PRAGMA synchronous=FULL";
    return s;
  }
  return std::make_unique<soci::session>(soci::postgresql, mf::PostgresConnectionString(url, "default"));
}

std::unique_ptr<mf::Store> OpenStore(const std::string& url) {
  mf::Status st;
  auto store = mf::Store::Open(url, &st, {MENTORFLOW_SOURCE_DIR "/templates"});
  if (!store) {
    std::fprintf(stderr, "%s: %s\n", url.c_str(), st.message().c_str());
    std::exit(1);
  }
  return store;
}

// An initialised database with a curator and `instances` information_support instances.
std::vector<std::string> Prepare(const std::string& url, int instances) {
  auto store = OpenStore(url);
  mf::LoadOptions opts;
  auto catalog = mf::Catalog::Load({MENTORFLOW_SOURCE_DIR "/workflows"}, opts);
  store->Init(catalog, kNow, nullptr, DirectorD1());
  store->AddPerson({"c1", "Куратор", {"curator"}, "", ""}, "d1", kNow);
  std::vector<std::string> ids;
  for (int done = 0; done < instances;) {
    int chunk = std::min(5000, instances - done);
    auto st = store->Batch([&] {
      for (int i = 0; i < chunk; ++i) {
        mf::InstanceRecord rec;
        mf::Refusal r;
        if (auto s = store->Start("information_support", {}, "", "c1", kNow, &rec, &r); !s.ok()) return s;
        ids.push_back(rec.id);
      }
      return mf::Status::Ok();
    });
    if (!st.ok()) {
      std::fprintf(stderr, "prepare: %s\n", st.message().c_str());
      std::exit(1);
    }
    done += chunk;
  }
  return ids;
}

mf::Status Publish(mf::Store& store, const std::string& id, long i) {
  mf::InstanceRecord rec;
  mf::Refusal r;
  return store.Send(id, "publish", {{"last_url", "https://example.org/news/" + std::to_string(i)}},
                    "c1", kNow, &rec, &r);
}

// `events` plain inserts of a 300-byte row, `per_tx` to a transaction.
double Floor(const std::string& url, const std::string& table, long first, int events, int per_tx) {
  auto raw = Raw(url);
  soci::session& sql = *raw;
  const char* begin = IsSqlite(url) ? "BEGIN IMMEDIATE" : "BEGIN";
  std::string payload(300, 'x');
  auto t0 = Clock::now();
  for (long i = first; i < first + events;) {
    sql << begin;
    for (int k = 0; k < per_tx && i < first + events; ++k, ++i)
      sql << "INSERT INTO " + table + " (id, payload) VALUES (:i, :p)", soci::use(i), soci::use(payload);
    sql << "COMMIT";
  }
  return events / Seconds(t0);
}

void CreateFloorTable(const std::string& url, const std::string& table) {
  *Raw(url) << "CREATE TABLE " + table + " (id BIGINT PRIMARY KEY, payload TEXT NOT NULL)";
}

void Print(const std::string& label, double engine, double floor) {
  std::printf("%-34s %8.0f events/s   floor %8.0f rows/s   %.2fx the floor's time\n", label.c_str(), engine, floor,
              floor / engine);
}

void OneByOneAndBatch(const std::string& label, const std::string& url, int events) {
  auto ids = Prepare(url, 2);
  auto store = OpenStore(url);
  auto t0 = Clock::now();
  for (int i = 0; i < events; ++i)
    if (auto st = Publish(*store, ids[0], i); !st.ok()) {
      std::fprintf(stderr, "%s\n", st.message().c_str());
      return;
    }
  double one = events / Seconds(t0);
  t0 = Clock::now();
  auto st = store->Batch([&] {
    for (int i = 0; i < events; ++i)
      if (auto s = Publish(*store, ids[1], i); !s.ok()) return s;
    return mf::Status::Ok();
  });
  double batch = events / Seconds(t0);
  if (!st.ok()) std::fprintf(stderr, "%s\n", st.message().c_str());
  const auto spread_ids = Prepare(url, std::max(1, events / 10));
  t0 = Clock::now();
  st = store->Batch([&] {
    for (int i = 0; i < events; ++i)
      if (auto s = Publish(*store, spread_ids[static_cast<std::size_t>(i / 10) % spread_ids.size()], i); !s.ok())
        return s;
    return mf::Status::Ok();
  });
  double spread = events / Seconds(t0);
  if (!st.ok()) std::fprintf(stderr, "%s\n", st.message().c_str());
  CreateFloorTable(url, "floor_rows");
  double floor_one = Floor(url, "floor_rows", 0, events, 1);
  double floor_batch = Floor(url, "floor_rows", events, events, events);
  Print(label + ", a transaction each", one, floor_one);
  Print(label + ", one batch", batch, floor_batch);
  Print(label + ", one batch, 10 per instance", spread, floor_batch);
}

// Runs `work(p)` in `n` child processes at once; returns the wall time.
double InParallel(int n, const std::function<void(int)>& work) {
  std::fflush(stdout);  // or each child prints it again
  auto t0 = Clock::now();
  std::vector<pid_t> kids;
  for (int p = 0; p < n; ++p) {
    pid_t child = fork();
    if (child == 0) {
      work(p);
      std::fflush(stdout);
      _exit(0);
    }
    kids.push_back(child);
  }
  for (pid_t k : kids) waitpid(k, nullptr, 0);
  return Seconds(t0);
}

void FourConcurrent(const std::string& url, int events) {
  auto ids = Prepare(url, 4);
  const int each = events / 4;
  double t = InParallel(4, [&](int p) {
    auto store = OpenStore(url);
    for (int i = 0; i < each; ++i)
      if (auto st = Publish(*store, ids[p], i); !st.ok()) std::fprintf(stderr, "%s\n", st.message().c_str());
  });
  double engine = 4.0 * each / t;
  CreateFloorTable(url, "floor_rows4");
  t = InParallel(4, [&](int p) { Floor(url, "floor_rows4", static_cast<long>(p) * each, each, 1); });
  Print("PostgreSQL, 4 processes at once", engine, 4.0 * each / t);
}

long PeakRssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

// The measured process (re-executed, so that nothing of the preparation is
// in its memory): `events` events spread over every instance, then its peak RSS.
int RssChild(const std::string& url, int events) {
  auto store = OpenStore(url);
  mf::InstanceRecord rec;
  // Ids are 1..N; spread the events over all of them.
  long n = 0;
  {
    *Raw(url) << "SELECT COUNT(*) FROM instances", soci::into(n);
  }
  for (int i = 0; i < events; ++i) {
    std::string id = std::to_string(1 + (static_cast<long>(i) * 7919) % n);
    if (auto st = Publish(*store, id, i); !st.ok()) {
      std::fprintf(stderr, "%s\n", st.message().c_str());
      return 1;
    }
    store->Show(id, &rec);
  }
  std::printf("%ld\n", PeakRssKb());
  return 0;
}

long RunRssChild(const std::string& url, int events) {
  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();  // not popen's shell
  std::string cmd = "'" + self + "' --rss-child '" + url + "' " + std::to_string(events);
  FILE* p = popen(cmd.c_str(), "r");
  long kb = -1;
  if (p && std::fscanf(p, "%ld", &kb) != 1) kb = -1;
  if (p) pclose(p);
  return kb;
}

void Memory(const std::string& dir, int events) {
  long rss[2] = {0, 0};
  int sizes[2] = {100, 50 * events};
  for (int k = 0; k < 2; ++k) {
    std::string path = dir + "/mf_bench_rss_" + std::to_string(sizes[k]) + "_" + std::to_string(getpid()) + ".db";
    auto t0 = Clock::now();
    Prepare("sqlite:" + path, sizes[k]);
    double prep = Seconds(t0);
    rss[k] = RunRssChild("sqlite:" + path, events);
    std::printf("SQLite, %6d instances (%.1f s to start them in batches): peak RSS %ld KiB over %d events\n",
                sizes[k], prep, rss[k], events);
    for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(path + ext);
  }
  std::printf("memory: %d instances / 100 instances = %.2fx peak RSS\n", sizes[1],
              static_cast<double>(rss[1]) / static_cast<double>(rss[0]));
}

// One `mentorflow import` run, as a user runs it: its wall time in seconds.
double ImportRun(const std::string& dir, int lines) {
  const std::string db = dir + "/mf_bench_import_" + std::to_string(lines) + "_" + std::to_string(getpid()) + ".db";
  const std::string file = dir + "/mf_bench_import_" + std::to_string(lines) + "_" + std::to_string(getpid()) + ".jsonl";
  Prepare("sqlite:" + db, 0);
  {
    std::ofstream out(file);
    for (int i = 0; i < lines / 10; ++i) {
      out << R"({"start": "information_support", "ref": "r)" << i << R"(", "as": "c1"})" << "\n";
      for (int j = 0; j < 9; ++j)
        out << R"({"send": "@r)" << i << R"(", "event": "publish", "as": "c1", "at": "2026-09-0)" << (j + 1)
            << R"(", "set": {"last_url": "https://example.org/news/)" << i << "/" << j << R"("}})"
            << "\n";
    }
  }
  const std::string cmd = std::string("MENTORFLOW_WORKFLOWS='" MENTORFLOW_SOURCE_DIR "/workflows' '") + MENTORFLOW_CLI +
                          "' --templates '" MENTORFLOW_SOURCE_DIR "/templates' --db 'sqlite:" + db +
                          "' --now 2026-09-01 import '" + file + "' >/dev/null";
  auto t0 = Clock::now();
  int rc = std::system(cmd.c_str());
  double s = Seconds(t0);
  for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(db + ext);
  std::filesystem::remove(file);
  if (rc != 0) {
    std::fprintf(stderr, "import of %d lines failed (%d)\n", lines, rc);
    std::exit(1);
  }
  return s;
}

void ImportSeries(const std::string& dir, int events) {
  const int sizes[] = {10 * events, 40 * events, 100 * events};
  double base = 0;
  for (int n : sizes) {
    double s = ImportRun(dir, n);
    double per_line = s / n;
    if (base == 0) base = per_line;
    std::printf("import of %6d lines (SQLite): %6.1f s, %5.0f us/line, %.2fx the %d-line file's time per line\n", n,
                s, per_line * 1e6, per_line / base, sizes[0]);
  }
}

std::string FreshPg(const char* admin_url, const std::string& name) {
  soci::session admin(soci::postgresql, mf::PostgresConnectionString(admin_url));
  int exists = 0;
  admin << "SELECT COUNT(*) FROM pg_database WHERE datname = :n", soci::into(exists), soci::use(name);
  if (exists) admin << "DROP DATABASE " + name;
  admin << "CREATE DATABASE " + name;
  std::string pg = admin_url;
  return pg.substr(0, pg.rfind('/') + 1) + name;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "--rss-child") == 0) return RssChild(argv[2], std::atoi(argv[3]));
  int events = argc > 1 ? std::atoi(argv[1]) : 2000;
  std::string dir = std::filesystem::temp_directory_path().string();
  std::string path = dir + "/mf_bench_" + std::to_string(getpid()) + ".db";
  std::printf("bench/persist: %d events per run (information_support 'publish': instance, history, timer and"
              " reminder rows)\n", events);
  OneByOneAndBatch("SQLite (WAL, synchronous=FULL)", "sqlite:" + path, events);
  for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(path + ext);
  if (const char* pg = std::getenv("MENTORFLOW_TEST_PG")) {
    std::string suffix = std::to_string(getpid());
    OneByOneAndBatch("PostgreSQL", FreshPg(pg, "mf_bench_" + suffix), events);
    FourConcurrent(FreshPg(pg, "mf_bench4_" + suffix), events);
  } else {
    std::printf("PostgreSQL: skipped (set MENTORFLOW_TEST_PG, or run under scripts/with-postgres.sh)\n");
  }
  ImportSeries(dir, events);
  Memory(dir, events);
  return 0;
}
