// The application layer: every use case of mentorflow as a function over
// (Context, typed request) that returns a typed result or a Status. The
// command line (cli/) and the HTTP server (server/) are thin adapters over
// these functions and over one JSON codec (app/codec.h), so a rule or a
// field of the output is written once.
//
// Thread-safety: a Context holds a Store, which is not thread-safe; one
// Context per thread.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "engine/status.h"
#include "storage/store.h"

namespace mentorflow::app {

// Who acts, when and where.
struct Context {
  Store& store;
  // A person id. Empty only for the operator at the server's console (the
  // CLI without --as), for the few reads the command line allows them; the
  // use cases that need a person refuse it with BadInput.
  std::string actor;
  Now now;
  std::string zone = "Europe/Moscow";  // the institution's, stored at init
  std::string templates;               // the templates directory
};

// A value, or the Status that says why there is none.
template <typename T>
class Result {
 public:
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: an error converts implicitly
  Result(T value) : value_(std::move(value)) {}          // NOLINT: so does a value
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

// BadInput unless the context names who acts.
Status NeedActor(const Context& ctx);

// The moment a use case runs at: `fixed` (--now: "YYYY-MM-DD[THH:MM]", a
// wall time in `zone`), or the system clock when it is empty. The only
// place that reads the clock.
Status ResolveNow(const std::string& fixed, const std::string& zone, Now* now);

}  // namespace mentorflow::app
