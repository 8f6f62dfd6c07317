// Log lines are still formatted in the fuzz targets (request data reaches them: a target
// path, a uid, an error message), but written nowhere: stderr is for libFuzzer's reports.
#pragma once

#include <memory>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "support/log.hpp"

namespace lug::fuzz {

inline void quiet_logs(log::format fmt) {
  log::setup(spdlog::level::trace, fmt);
  auto logger = std::make_shared<spdlog::logger>("lug", std::make_shared<spdlog::sinks::null_sink_mt>());
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace lug::fuzz
