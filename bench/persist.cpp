// bench/persist: events applied per second through the real storage (one
// transaction per event), beside the floor the database allows: the same
// number of plain SOCI inserts of equally sized rows, one transaction each,
// in the same run. Prints events/s and the ratio to the floor.
//   bench_persist [EVENTS]     (PostgreSQL too when MENTORFLOW_TEST_PG is set)
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "storage/store.h"

namespace mf = mentorflow;
using Clock = std::chrono::steady_clock;

static double Seconds(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }

static void Run(const std::string& label, const std::string& url, int events, bool sqlite, const std::string& path) {
  mf::LoadOptions opts;
  auto catalog = mf::Catalog::Load({MENTORFLOW_SOURCE_DIR "/workflows"}, opts);
  mf::Status st;
  auto store = mf::Store::Open(url, &st);
  if (!store) {
    std::fprintf(stderr, "%s: %s\n", label.c_str(), st.message().c_str());
    return;
  }
  auto now = mf::Now::At(*mf::ParseLocalTime("2026-09-01", ""), "");
  store->Init(catalog, now, nullptr);
  store->AddPerson({"c1", "Куратор", {"curator"}, "", ""}, now);
  mf::InstanceRecord rec;
  mf::Refusal r;
  store->Start("information_support", {}, "", "c1", now, &rec, &r);
  const std::string id = rec.id;

  auto t0 = Clock::now();
  for (int i = 0; i < events; ++i) {
    auto s = store->Send(id, "publish", {{"last_url", "https://example.org/news/" + std::to_string(i)}, {"channel", "site"}},
                         "c1", now, &rec, &r);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.message().c_str());
      return;
    }
  }
  double engine = events / Seconds(t0);

  // The floor: plain inserts of a row the size of a history entry, one transaction each.
  soci::session sql = sqlite ? soci::session(soci::sqlite3, "db=" + path + " timeout=30")
                             : soci::session(soci::postgresql, mf::PostgresConnectionString(url));
  if (sqlite) {
    sql << "PRAGMA journal_mode=WAL";
    sql << "PRAGMA synchronous=FULL";
  }
  sql << "CREATE TABLE floor_rows (id BIGINT PRIMARY KEY, payload TEXT NOT NULL)";
  std::string payload(300, 'x');
  t0 = Clock::now();
  for (long long i = 0; i < events; ++i) {
    sql << (sqlite ? "BEGIN IMMEDIATE" : "BEGIN");
    sql << "INSERT INTO floor_rows (id, payload) VALUES (:i, :p)", soci::use(i), soci::use(payload);
    sql << "COMMIT";
  }
  double floor = events / Seconds(t0);
  std::printf("%-22s %8.0f events/s   floor %8.0f inserts/s   ratio to floor %.2fx slower\n", label.c_str(), engine,
              floor, floor / engine);
}

int main(int argc, char** argv) {
  int events = argc > 1 ? std::atoi(argv[1]) : 2000;
  std::string path = std::filesystem::temp_directory_path().string() + "/mf_bench_" + std::to_string(getpid()) + ".db";
  std::printf("bench/persist: %d events, one transaction per event\n", events);
  Run("SQLite (WAL, FULL)", "sqlite:" + path, events, true, path);
  for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(path + ext);
  if (const char* pg = std::getenv("MENTORFLOW_TEST_PG")) {
    // A fresh database for the run.
    std::string db = "mf_bench_" + std::to_string(getpid());
    {
      soci::session admin(soci::postgresql, mentorflow::PostgresConnectionString(pg));
      admin << "CREATE DATABASE " + db;
    }
    std::string url = std::string(pg).substr(0, std::string(pg).rfind('/') + 1) + db;
    Run("PostgreSQL", url, events, false, "");
  } else {
    std::printf("PostgreSQL: skipped (set MENTORFLOW_TEST_PG, or run under scripts/with-postgres.sh)\n");
  }
  return 0;
}
