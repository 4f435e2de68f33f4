// Errors as values at module boundaries.
//
// A Code maps one-to-one onto the exit codes of the command-line contract
// (DESIGN.md): 0 done, 1 bad input, 2 not found, 3 refused by the workflow,
// 4 conflict, 5 storage or internal error.
#pragma once

#include <string>
#include <utility>

namespace mentorflow {

enum class Code : int {
  kOk = 0,
  kBadInput = 1,
  kNotFound = 2,
  kRefused = 3,
  kConflict = 4,
  kInternal = 5,
};

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  // `rule` names what refused (a workflow rule such as "role" or "condition").
  Status(Code code, std::string message, std::string rule)
      : code_(code), message_(std::move(message)), rule_(std::move(rule)) {}

  static Status Ok() { return {}; }
  static Status BadInput(std::string m) { return {Code::kBadInput, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status Refused(std::string m) { return {Code::kRefused, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  int exit_code() const { return static_cast<int>(code_); }
  const std::string& message() const { return message_; }
  const std::string& rule() const { return rule_; }
  // A refused input: the field it was given for (a form marks it there).
  const std::string& field() const { return field_; }
  Status& At(std::string field) {
    field_ = std::move(field);
    return *this;
  }

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::string rule_;
  std::string field_;
};

}  // namespace mentorflow
