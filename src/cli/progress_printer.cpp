// Progress bars and progress lines.
#include "progress_printer.hpp"

namespace mongo_orm::cli {

namespace {
std::string duration_text(std::chrono::seconds s) {
  char text[32];
  long long total = s.count();
  std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", total / 3600, (total / 60) % 60, total % 60);
  return text;
}
}  // namespace

void ProgressPrinter::operator()(const migrate::Progress& progress) {
  if (progress.operation != operation_) {
    finish();
    operation_ = progress.operation;
    last_tenth_ = -1;
  }
  std::string counts = std::to_string(progress.done) + (progress.total >= 0 ? "/" + std::to_string(progress.total) : "");
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.0f docs/s", progress.rate());
  auto eta = progress.eta();
  std::string tail = counts + "  " + rate + (eta ? "  ETA " + duration_text(*eta) : "");
  if (terminal_) {
    constexpr int width = 30;
    int filled = progress.total > 0 ? static_cast<int>(width * progress.done / progress.total) : 0;
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(out_, "\r  %s [%s] %s\033[K", progress.operation.c_str(), bar.c_str(), tail.c_str());
    std::fflush(out_);
    bar_open_ = true;
    return;
  }
  auto now = std::chrono::steady_clock::now();
  int tenth = progress.total > 0 ? static_cast<int>(10 * progress.done / progress.total) : 0;
  bool due = tenth > last_tenth_ || now - last_line_ >= std::chrono::seconds(5) || progress.done == progress.total;
  if (!due) return;
  last_tenth_ = tenth;
  last_line_ = now;
  std::fprintf(out_, "  %s: %s\n", progress.operation.c_str(), tail.c_str());
  std::fflush(out_);
}

void ProgressPrinter::finish() {
  if (bar_open_) {
    std::fprintf(out_, "\n");
    bar_open_ = false;
  }
}

}  // namespace mongo_orm::cli
