// What the benchmarks share: stopping on a failed step, the first director,
// a day in Moscow as `now`, and a throwaway database on either backend
// (SQLite in the temp directory; PostgreSQL as a new database beside the
// MENTORFLOW_TEST_PG one), dropped when done unless MF_BENCH_KEEP is set.
#pragma once

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "storage/store.h"

namespace mentorflow::bench {

inline void Check(const Status& st, const char* what) {
  if (st.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, st.message().c_str());
  std::exit(1);
}

inline Store::InitOptions DirectorD1() {
  Store::InitOptions o;
  o.director = {"d1", "Директор", {"director"}, "", "", ""};
  return o;
}

// Brings a programme to its pairs stage, as a pair may be proposed only
// then: the director `director` approves, appoints `curator` (who must be
// registered) and signs the roadmap; the curator fills the banks.
inline void ProgrammeAtWork(Store& store, const std::string& director, const std::string& curator, const Now& now) {
  InstanceRecord rec;
  Refusal r;
  Check(store.Start("programme", {{"year", "2026/2027"}}, "", director, now, &rec, &r), "programme");
  const std::string id = rec.id;
  Check(store.Send(id, "approve_regulation", {}, director, now, &rec, &r), "approve_regulation");
  Check(store.Send(id, "appoint_curator", {{"curator", curator}}, director, now, &rec, &r), "appoint_curator");
  Check(store.Sign(id, "roadmap", director, now, nullptr), "roadmap");
  for (const char* event : {"start_mentee_bank", "mentee_bank_ready", "mentor_bank_ready", "training_done"})
    Check(store.Send(id, event, {}, curator, now, &rec, &r), event);
}

inline Now At(const char* day) { return Now::At(*ParseLocalTime(day, "Europe/Moscow"), "Europe/Moscow"); }

// A new, empty database named NAME_PID: its URL.
inline std::string FreshDatabase(const std::string& backend, const std::string& name) {
  const std::string unique = name + "_" + std::to_string(getpid());
  if (backend == "sqlite") {
    std::string path = std::filesystem::temp_directory_path().string() + "/" + unique + ".db";
    for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(path + ext);
    return "sqlite:" + path;
  }
  std::string admin = std::getenv("MENTORFLOW_TEST_PG");
  soci::session s(soci::postgresql, PostgresConnectionString(admin));
  s << "DROP DATABASE IF EXISTS " + unique;
  s << "CREATE DATABASE " + unique;
  return admin.substr(0, admin.rfind('/') + 1) + unique;
}

inline void DropDatabase(const std::string& url) {
  if (std::getenv("MF_BENCH_KEEP")) {  // for a look at the query plans
    std::printf("  kept %s\n", url.c_str());
    return;
  }
  if (url.rfind("sqlite:", 0) == 0) {
    for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(url.substr(7) + ext);
    return;
  }
  std::string admin = std::getenv("MENTORFLOW_TEST_PG");
  soci::session s(soci::postgresql, PostgresConnectionString(admin));
  s << "DROP DATABASE IF EXISTS " + url.substr(url.rfind('/') + 1) + " WITH (FORCE)";
}

}  // namespace mentorflow::bench
