// The metav1.StatusReason word Kubernetes pairs with an HTTP status code ("Forbidden" for
// 403). Every Status object this program writes (transport's error answers, admission
// denials) and every one it reads without a reason (kube's API errors) takes its word
// from this one table.
#pragma once

#include <string_view>

namespace lug {

// The reason for `http_status`, or "" (Kubernetes' StatusReasonUnknown) when it has none.
std::string_view status_reason(unsigned http_status);

}  // namespace lug
