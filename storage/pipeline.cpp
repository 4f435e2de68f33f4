#include "storage/pipeline.h"

#include <soci/postgresql/soci-postgresql.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace mentorflow::storage {

namespace {

// Past this many queued writes the answers are read before more go out, so
// that neither side's socket buffer can fill while the other waits.
constexpr std::size_t kMostWaiting = 400;

bool NameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

PgNumbered NumberPlaceholders(const std::string& text) {
  PgNumbered out;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\'') quoted = !quoted;
    if (quoted || c != ':' || i + 1 >= text.size() || !NameChar(text[i + 1]) || (i > 0 && text[i - 1] == ':')) {
      out.text += c;
      continue;
    }
    std::size_t end = i + 1;
    while (end < text.size() && NameChar(text[end])) ++end;
    const std::string name = text.substr(i + 1, end - i - 1);
    auto at = std::find(out.names.begin(), out.names.end(), name);
    if (at == out.names.end()) at = out.names.insert(out.names.end(), name);
    out.text += "$" + std::to_string(at - out.names.begin() + 1);
    i = end - 1;
  }
  return out;
}

void PgPipeline::Send(const std::string& text, const std::vector<PgParam>& params, long long rows, bool count) {
  PGconn* c = conn_();
  if (c != prepared_on_) {  // another connection: nothing of ours is prepared there
    names_.clear();
    prepared_on_ = c;
  }
  if (waiting_.size() >= kMostWaiting) Answer();
  if (waiting_.empty() && PQpipelineStatus(c) == PQ_PIPELINE_OFF && PQenterPipelineMode(c) != 1)
    throw soci::soci_error("storage: could not enter pipeline mode: " + std::string(PQerrorMessage(c)));
  auto named = names_.find(text);
  if (named == names_.end()) {
    named = names_.emplace(text, "mf_w" + std::to_string(names_.size() + 1)).first;
    if (PQsendPrepare(c, named->second.c_str(), text.c_str(), static_cast<int>(params.size()), nullptr) != 1) {
      names_.erase(named);
      throw soci::soci_error("storage: could not queue a statement: " + std::string(PQerrorMessage(c)));
    }
    waiting_.push_back({true, -1, false, text});
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  if (PQsendQueryPrepared(c, named->second.c_str(), static_cast<int>(values.size()), values.data(), nullptr, nullptr,
                          0) != 1)
    throw soci::soci_error("storage: could not queue a write: " + std::string(PQerrorMessage(c)));
  waiting_.push_back({false, rows, count, {}, step_});
}

std::optional<std::pair<std::string, std::string>> PgPipeline::Drain(PGconn* c) {
  std::optional<std::pair<std::string, std::string>> failure;
  if (PQpipelineSync(c) != 1) failure.emplace("could not send the pipeline: " + std::string(PQerrorMessage(c)), "08006");
  for (const Waiting& w : waiting_) {
    PGresult* r = PQgetResult(c);
    const ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK && !w.prepare) {
      const long long n = std::atoll(PQcmdTuples(r));
      if (w.count) counted_ += n;
      if (w.rows >= 0 && n != w.rows && !failure) {
        failure.emplace("a deferred write changed " + std::to_string(n) + " row(s) where it must change " +
                            std::to_string(w.rows),
                        "");
        failed_step_ = w.step;
      }
    } else if (st != PGRES_COMMAND_OK) {
      if (w.prepare) names_.erase(w.text);  // not prepared after all
      if (!failure) {
        const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
        failure.emplace(r ? PQresultErrorMessage(r) : PQerrorMessage(c), state ? state : "");
        if (st == PGRES_PIPELINE_ABORTED) failure->second = "25P02";
        failed_step_ = w.step;
      }
    }
    if (r) PQclear(r);
    while (PGresult* more = PQgetResult(c)) PQclear(more);  // the NULL that ends each answer
  }
  waiting_.clear();
  for (;;) {  // up to the sync's own answer
    PGresult* r = PQgetResult(c);
    if (!r) break;
    const bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
    PQclear(r);
    if (sync) break;
  }
  if (PQexitPipelineMode(c) != 1 && !failure)
    failure.emplace("could not leave pipeline mode: " + std::string(PQerrorMessage(c)), "08006");
  return failure;
}

void PgPipeline::Flush() {
  if (held_) {
    held_ = false;
    if (write_held_) write_held_();
  }
  Answer();
}

void PgPipeline::Answer() {
  if (waiting_.empty()) return;
  auto failure = Drain(conn_());
  if (!failure) return;
  if (failure->second.empty()) throw soci::soci_error("storage: " + failure->first);
  throw soci::postgresql_soci_error(failure->first, failure->second.c_str());
}

void PgPipeline::Discard() {
  if (held_) {
    held_ = false;
    if (drop_held_) drop_held_();
  }
  if (waiting_.empty()) return;
  Drain(conn_());
  counted_ = 0;
}

}  // namespace mentorflow::storage
