// SPDX-License-Identifier: MIT
// The whole public API of duroxide in one include.
#pragma once

#include <duroxide/client.hpp>
#include <duroxide/context.hpp>
#include <duroxide/error.hpp>
#include <duroxide/limits.hpp>
#include <duroxide/lmdb_provider.hpp>
#include <duroxide/management.hpp>
#include <duroxide/provider.hpp>
#include <duroxide/registry.hpp>
#include <duroxide/result.hpp>
#include <duroxide/retry.hpp>
#include <duroxide/runtime.hpp>
#include <duroxide/status.hpp>
#include <duroxide/store_check.hpp>
#include <duroxide/virtual_clock.hpp>
