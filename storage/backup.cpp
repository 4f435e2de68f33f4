// `backup`: a consistent online copy of an SQLite database.
#include <fcntl.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "storage/statements.h"

namespace mentorflow::storage {

Status SociStore::Backup(const std::string& path, long long* bytes) {
  if (!sqlite_)
    return Status::BadInput(
        "backup copies an SQLite database; a PostgreSQL server is backed up with its own tools:"
        " pg_dump (one database, consistent) or pg_basebackup (the whole cluster) — see README, Backup");
  if (path.empty()) return Status::BadInput("--to: give the path of the new backup file");
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0)
    return Status::BadInput("--to " + path + " exists; a backup is written to a new file only");
  // The file first, empty and 0600, so that the copy is never readable by
  // others, whatever the umask; VACUUM INTO writes into an empty file.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return Status::Internal("cannot create " + path + ": " + std::strerror(errno));
  ::close(fd);
  Status result = Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    // One read transaction: the copy is the database as one commit left it,
    // whatever other processes write meanwhile (WAL readers do not block them).
    *sql_ << "VACUUM INTO :p", soci::use(path);
    return Status::Ok();
  });
  if (result.ok()) {
    try {
      soci::session copy(soci::sqlite3, "db=\"" + path + "\" readonly=1");
      std::string verdict;
      copy << "PRAGMA integrity_check", soci::into(verdict);
      if (verdict != "ok") result = Status::Internal("the backup " + path + " failed its integrity check: " + verdict);
    } catch (const soci::soci_error& e) {
      result = Status::Internal("cannot check the backup " + path + ": " + e.get_error_message());
    }
  }
  if (!result.ok()) {
    ::unlink(path.c_str());
    return result;
  }
  ::chmod(path.c_str(), 0600);
  if (::stat(path.c_str(), &st) == 0 && bytes) *bytes = st.st_size;
  return Status::Ok();
}

}  // namespace mentorflow::storage
