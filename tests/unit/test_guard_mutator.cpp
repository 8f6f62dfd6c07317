#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "guard/mutator.hpp"
#include "guard_fixtures.hpp"

using json = nlohmann::json;
using lug::guard::init_container_spec;
using lug::guard::mutator;
using lug::guard::supervisor_wrap;
using lug::guard::uninstall_job;
using lug::test::job_pod;
using lug::test::pod_create;

namespace {

const mutator guard_mutator{uninstall_job{}, init_container_spec{.image = "example.org/guard:v1"}};
const mutator unwrapping_mutator{uninstall_job{}, init_container_spec{.image = "example.org/guard:v1"},
                                 supervisor_wrap{.enabled = false}};

// Applies the decision's patch to the pod, as the API server would.
json mutated(const json& pod, const mutator& policy = guard_mutator) {
  const auto decision = policy.decide(pod_create(pod));
  REQUIRE(decision.allowed());
  REQUIRE(decision.patch.has_value());
  return pod.patch(json::parse(*decision.patch));
}

}  // namespace

TEST_SUITE("the mutating webhook injects the waiting init container") {
  TEST_CASE("a pod without init containers gets initContainers holding only ours") {
    const json pod = mutated(job_pod(), unwrapping_mutator);
    REQUIRE(pod["spec"]["initContainers"].size() == 1);
    const json& c = pod["spec"]["initContainers"][0];
    CHECK(c["name"] == "wait-for-deleting-confirmation");
    CHECK(c["image"] == "example.org/guard:v1");
    CHECK(c["command"] == json::array({"/usr/local/bin/longhorn-uninstall-guard"}));
    CHECK(c["args"][0] == "wait");
    CHECK(c["args"] == json::array({"wait", "--namespace", "longhorn-system", "--setting", "deleting-confirmation-flag",
                                    "--setting-api-version", "v1beta2", "--poll-interval", "1s", "--settle", "0s"}));
    // With --wrap-uninstall=false, the uninstall container itself is untouched.
    CHECK(pod["spec"]["containers"] == job_pod()["spec"]["containers"]);
    CHECK(pod["spec"]["volumes"] == job_pod()["spec"]["volumes"]);
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
    const json c = mutated(job_pod(), unwrapping_mutator)["spec"]["initContainers"][0];
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
    CHECK(again.allowed());
    CHECK_FALSE(again.patch.has_value());
  }
  TEST_CASE("a pod without a service-account token is allowed unchanged, with a warning") {
    json pod = job_pod();
    pod["spec"]["volumes"] = json::array();
    pod["spec"]["containers"][0].erase("volumeMounts");
    pod["spec"]["automountServiceAccountToken"] = false;
    const auto decision = guard_mutator.decide(pod_create(pod));
    CHECK(decision.allowed());
    CHECK_FALSE(decision.patch.has_value());
    REQUIRE(decision.warnings.size() == 1);
    CHECK(decision.warnings[0].find("service-account token") != std::string::npos);
  }
  TEST_CASE("out-of-scope pods are allowed unchanged") {
    const auto decision = guard_mutator.decide(pod_create(job_pod("longhorn-system", "other-job")));
    CHECK(decision.allowed());
    CHECK_FALSE(decision.patch.has_value());
    CHECK(decision.warnings.empty());
  }
  TEST_CASE("the mutator never denies, even for a pod without a spec") {
    json pod = job_pod();
    pod.erase("spec");
    const auto decision = guard_mutator.decide(pod_create(pod));
    CHECK(decision.allowed());
    CHECK_FALSE(decision.patch.has_value());
  }
}

namespace {

const char* const supervisor = "/run/longhorn-uninstall-guard/longhorn-uninstall-supervisor";

json supervisor_mount(bool read_only) {
  json mount = {{"name", "longhorn-uninstall-supervisor"}, {"mountPath", "/run/longhorn-uninstall-guard"}};
  if (read_only) mount["readOnly"] = true;
  return mount;
}

// The job pod with its (only) container's command and args replaced.
json pod_running(const json& command, const json& args = nullptr) {
  json pod = job_pod();
  if (command.is_null()) {
    pod["spec"]["containers"][0].erase("command");
  } else {
    pod["spec"]["containers"][0]["command"] = command;
  }
  if (!args.is_null()) pod["spec"]["containers"][0]["args"] = args;
  return pod;
}

std::vector<std::string> warnings_for(const json& pod) { return guard_mutator.decide(pod_create(pod)).warnings; }

}  // namespace

TEST_SUITE("the mutating webhook runs longhorn-manager uninstall under the supervisor") {
  TEST_CASE("the uninstall container's command is wrapped, its args untouched") {
    const json pod = mutated(pod_running(json::array({"longhorn-manager", "uninstall"}), json::array({"--force"})));
    const json& c = pod["spec"]["containers"][0];
    CHECK(c["command"] == json::array({supervisor, "--attempts=5", "--", "longhorn-manager", "uninstall"}));
    CHECK(c["args"] == json::array({"--force"}));
  }
  TEST_CASE("the Job's own command [longhorn-manager, uninstall, --force]") {
    const json c = mutated(job_pod())["spec"]["containers"][0];
    CHECK(c["command"] == json::array({supervisor, "--attempts=5", "--", "longhorn-manager", "uninstall", "--force"}));
    CHECK_FALSE(c.contains("args"));
  }
  TEST_CASE("--supervisor-attempts reaches the command") {
    const mutator three{uninstall_job{}, init_container_spec{.image = "x"}, supervisor_wrap{.attempts = 3}};
    CHECK(mutated(job_pod(), three)["spec"]["containers"][0]["command"][1] == "--attempts=3");
  }
  TEST_CASE("an emptyDir volume with a small sizeLimit is added beside the pod's volumes") {
    const json volumes = mutated(job_pod())["spec"]["volumes"];
    REQUIRE(volumes.size() == 2);
    CHECK(volumes[0] == job_pod()["spec"]["volumes"][0]);
    CHECK(volumes[1] == json{{"name", "longhorn-uninstall-supervisor"}, {"emptyDir", {{"sizeLimit", "8Mi"}}}});
  }
  TEST_CASE("the init container mounts the volume read-write and installs the supervisor before waiting") {
    const json c = mutated(job_pod())["spec"]["initContainers"][0];
    REQUIRE(c["volumeMounts"].size() == 2);
    CHECK(c["volumeMounts"][1] == supervisor_mount(false));
    const json& args = c["args"];
    CHECK(args[0] == "wait");
    CHECK(args[args.size() - 2] == "--install-supervisor");
    CHECK(args[args.size() - 1] == supervisor);
  }
  TEST_CASE("the uninstall container mounts it read-only at the same path, after its own mounts") {
    const json mounts = mutated(job_pod())["spec"]["containers"][0]["volumeMounts"];
    REQUIRE(mounts.size() == 2);
    CHECK(mounts[0] == job_pod()["spec"]["containers"][0]["volumeMounts"][0]);
    CHECK(mounts[1] == supervisor_mount(true));
  }
  TEST_CASE("a container without volumeMounts gets a list holding the mount") {
    json pod = job_pod();
    pod["spec"]["containers"][0].erase("volumeMounts");
    CHECK(mutated(pod)["spec"]["containers"][0]["volumeMounts"] == json::array({supervisor_mount(true)}));
  }
  TEST_CASE("command[0] is matched by base name, and uninstall may come from args") {
    for (const json& pod : {pod_running(json::array({"/usr/local/sbin/longhorn-manager", "uninstall", "--force"})),
                            pod_running(json::array({"longhorn-manager"}), json::array({"uninstall", "--force"})),
                            pod_running(json::array({"longhorn-manager", "--debug"}), json::array({"uninstall"}))}) {
      CAPTURE(pod["spec"]["containers"][0]);
      CHECK(mutated(pod)["spec"]["containers"][0]["command"][0] == supervisor);
      CHECK(warnings_for(pod).empty());
    }
  }
  TEST_CASE("a container without a command is not rewritten, and a warning says why") {
    const json pod = pod_running(nullptr, json::array({"uninstall", "--force"}));
    const json result = mutated(pod);
    CHECK(result["spec"]["containers"] == pod["spec"]["containers"]);
    CHECK(result["spec"]["volumes"] == pod["spec"]["volumes"]);
    CHECK(result["spec"]["initContainers"][0]["volumeMounts"].size() == 1);
    CHECK(std::find(result["spec"]["initContainers"][0]["args"].begin(),
                    result["spec"]["initContainers"][0]["args"].end(),
                    "--install-supervisor") == result["spec"]["initContainers"][0]["args"].end());
    const auto warnings = warnings_for(pod);
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("container \"longhorn-uninstall\" has no command") != std::string::npos);
    CHECK(warnings[0].find("longhorn/longhorn#10483") != std::string::npos);
  }
  TEST_CASE("another command is not rewritten, and a warning names it") {
    for (const json& pod :
         {pod_running(json::array({"sh", "-c", "longhorn-manager uninstall --force"})),
          pod_running(json::array({"longhorn-manager", "pre-upgrade"})),
          pod_running(json::array({"longhorn-manager-x", "uninstall"})),
          pod_running(json::array({"longhorn-manager", "uninstalled"})), pod_running(json::array({42, "uninstall"}))}) {
      CAPTURE(pod["spec"]["containers"][0]["command"]);
      const json result = mutated(pod);
      CHECK(result["spec"]["containers"] == pod["spec"]["containers"]);
      const auto warnings = warnings_for(pod);
      REQUIRE(warnings.size() == 1);
      CHECK(warnings[0].find("not longhorn-manager uninstall") != std::string::npos);
    }
  }
  TEST_CASE("a very long foreign command is quoted only in part") {
    const auto warnings = warnings_for(pod_running(json::array({std::string(5000, 'a')})));
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].size() < 400);
  }
  TEST_CASE("other containers are never touched, and warn nothing when the uninstall one is wrapped") {
    json pod = job_pod();
    pod["spec"]["containers"].insert(pod["spec"]["containers"].begin(),
                                     json{{"name", "sidecar"}, {"image", "busybox"}, {"command", {"sleep", "1"}}});
    pod["spec"]["containers"].push_back(json{{"name", "other"}, {"image", "busybox"}});
    const json result = mutated(pod);
    CHECK(result["spec"]["containers"][0] == pod["spec"]["containers"][0]);
    CHECK(result["spec"]["containers"][1]["command"][0] == supervisor);
    CHECK(result["spec"]["containers"][2] == pod["spec"]["containers"][2]);
    CHECK(warnings_for(pod).empty());
  }
  TEST_CASE("reinvocation: the mutated pod gets no second patch") {
    const json once = mutated(job_pod());
    const auto again = guard_mutator.decide(pod_create(once));
    CHECK_FALSE(again.patch.has_value());
    CHECK(again.warnings.empty());
  }
  TEST_CASE("a command already wrapped is not wrapped again, and the volume is not added twice") {
    // A pod whose containers were wrapped before (copied from a mutated pod) but that lacks
    // the init container: the init container is added and installs the supervisor, nothing more.
    json pod = mutated(job_pod());
    pod["spec"].erase("initContainers");
    const json result = mutated(pod);
    CHECK(result["spec"]["containers"] == pod["spec"]["containers"]);
    CHECK(result["spec"]["volumes"] == pod["spec"]["volumes"]);
    CHECK(result["spec"]["initContainers"][0]["args"].back() == supervisor);
  }
  TEST_CASE("a wrapped command whose mount is missing gets the mount, not a second wrap") {
    json pod = mutated(job_pod());
    pod["spec"].erase("initContainers");
    pod["spec"]["containers"][0]["volumeMounts"].erase(1);
    const json result = mutated(pod);
    CHECK(result["spec"]["containers"][0]["command"] == pod["spec"]["containers"][0]["command"]);
    CHECK(result["spec"]["containers"][0]["volumeMounts"][1] == supervisor_mount(true));
  }
  TEST_CASE("the patch is minimal: volume, init container, mount and command, each one operation") {
    const auto decision = guard_mutator.decide(pod_create(job_pod()));
    REQUIRE(decision.patch.has_value());
    json paths = json::array();
    for (const auto& op : json::parse(*decision.patch)) paths.push_back(op["op"].get<std::string>() + " " + op["path"].get<std::string>());
    CHECK(paths == json::array({"add /spec/initContainers", "add /spec/volumes/-",
                                "add /spec/containers/0/volumeMounts/-", "replace /spec/containers/0/command"}));
  }
  TEST_CASE("--wrap-uninstall=false: no volume, no mount, no install, no warning") {
    const json pod = pod_running(nullptr);
    const auto decision = unwrapping_mutator.decide(pod_create(pod));
    CHECK(decision.warnings.empty());
    const json result = pod.patch(json::parse(*decision.patch));
    CHECK(result["spec"]["containers"] == pod["spec"]["containers"]);
    CHECK(result["spec"]["volumes"] == pod["spec"]["volumes"]);
    CHECK(result["spec"]["initContainers"][0]["volumeMounts"].size() == 1);
  }
  TEST_CASE("without a token nothing is wrapped either: nothing would install the supervisor") {
    json pod = job_pod();
    pod["spec"]["volumes"] = json::array();
    pod["spec"]["containers"][0].erase("volumeMounts");
    const auto decision = guard_mutator.decide(pod_create(pod));
    CHECK_FALSE(decision.patch.has_value());
    REQUIRE(decision.warnings.size() == 1);
    CHECK(decision.warnings[0].find("supervisor") != std::string::npos);
  }
  TEST_CASE("out-of-scope pods running longhorn-manager uninstall are not touched") {
    const auto decision = guard_mutator.decide(pod_create(job_pod("longhorn-system", "other-job")));
    CHECK_FALSE(decision.patch.has_value());
    CHECK(decision.warnings.empty());
  }
}
