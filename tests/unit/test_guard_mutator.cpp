#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "guard/mutator.hpp"
#include "guard_fixtures.hpp"

using json = nlohmann::json;
using lug::guard::init_container_spec;
using lug::guard::mutator;
using lug::guard::uninstall_job;
using lug::test::job_pod;
using lug::test::pod_create;

namespace {

const mutator guard_mutator{uninstall_job{}, init_container_spec{.image = "example.org/guard:v1"}};

// Applies the decision's patch to the pod, as the API server would.
json mutated(const json& pod) {
  const auto decision = guard_mutator.decide(pod_create(pod));
  REQUIRE(decision.allowed);
  REQUIRE(decision.patch.has_value());
  return pod.patch(json::parse(*decision.patch));
}

}  // namespace

TEST_SUITE("the mutating webhook injects the waiting init container") {
  TEST_CASE("a pod without init containers gets initContainers holding only ours") {
    const json pod = mutated(job_pod());
    REQUIRE(pod["spec"]["initContainers"].size() == 1);
    const json& c = pod["spec"]["initContainers"][0];
    CHECK(c["name"] == "wait-for-deleting-confirmation");
    CHECK(c["image"] == "example.org/guard:v1");
    CHECK(c["command"] == json::array({"/usr/local/bin/longhorn-uninstall-guard"}));
    CHECK(c["args"][0] == "wait");
    CHECK(c["args"] == json::array({"wait", "--namespace", "longhorn-system", "--setting", "deleting-confirmation-flag",
                                    "--setting-api-version", "v1beta2", "--poll-interval", "1s", "--settle", "10s"}));
    // The uninstall container itself is untouched.
    CHECK(pod["spec"]["containers"] == job_pod()["spec"]["containers"]);
  }
  TEST_CASE("the init container runs restricted, with small resources") {
    const json c = mutated(job_pod())["spec"]["initContainers"][0];
    const json& sc = c["securityContext"];
    CHECK(sc["runAsNonRoot"] == true);
    CHECK(sc["runAsUser"].get<int>() > 0);
    CHECK(sc["allowPrivilegeEscalation"] == false);
    CHECK(sc["readOnlyRootFilesystem"] == true);
    CHECK(sc["capabilities"]["drop"] == json::array({"ALL"}));
    CHECK(sc["seccompProfile"]["type"] == "RuntimeDefault");
    CHECK(c["resources"]["limits"].contains("memory"));
    CHECK(c["resources"]["requests"].contains("cpu"));
  }
  TEST_CASE("the init container mounts the pod's own service-account token read-only") {
    const json c = mutated(job_pod())["spec"]["initContainers"][0];
    CHECK(c["volumeMounts"] == json::array({{{"name", "kube-api-access-abcde"},
                                             {"mountPath", "/var/run/secrets/kubernetes.io/serviceaccount"},
                                             {"readOnly", true}}}));
  }
  TEST_CASE("existing init containers stay, ours goes first") {
    json pod = job_pod();
    pod["spec"]["initContainers"] = json::array({{{"name", "prepare"}, {"image", "busybox"}}});
    const json result = mutated(pod);
    REQUIRE(result["spec"]["initContainers"].size() == 2);
    CHECK(result["spec"]["initContainers"][0]["name"] == "wait-for-deleting-confirmation");
    CHECK(result["spec"]["initContainers"][1]["name"] == "prepare");
  }
  TEST_CASE("an empty initContainers list is replaced by one holding ours") {
    json pod = job_pod();
    pod["spec"]["initContainers"] = json::array();
    CHECK(mutated(pod)["spec"]["initContainers"].size() == 1);
  }
  TEST_CASE("a pod that already has the init container gets no patch (reinvocation is idempotent)") {
    const json once = mutated(job_pod());
    const auto again = guard_mutator.decide(pod_create(once));
    CHECK(again.allowed);
    CHECK_FALSE(again.patch.has_value());
  }
  TEST_CASE("a pod without a service-account token is allowed unchanged, with a warning") {
    json pod = job_pod();
    pod["spec"]["volumes"] = json::array();
    pod["spec"]["containers"][0].erase("volumeMounts");
    pod["spec"]["automountServiceAccountToken"] = false;
    const auto decision = guard_mutator.decide(pod_create(pod));
    CHECK(decision.allowed);
    CHECK_FALSE(decision.patch.has_value());
    REQUIRE(decision.warnings.size() == 1);
    CHECK(decision.warnings[0].find("service-account token") != std::string::npos);
  }
  TEST_CASE("out-of-scope pods are allowed unchanged") {
    const auto decision = guard_mutator.decide(pod_create(job_pod("longhorn-system", "other-job")));
    CHECK(decision.allowed);
    CHECK_FALSE(decision.patch.has_value());
    CHECK(decision.warnings.empty());
  }
  TEST_CASE("the mutator never denies, even for a pod without a spec") {
    json pod = job_pod();
    pod.erase("spec");
    const auto decision = guard_mutator.decide(pod_create(pod));
    CHECK(decision.allowed);
    CHECK_FALSE(decision.patch.has_value());
  }
}
