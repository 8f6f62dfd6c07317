#include <doctest/doctest.h>

#include "guard/scope.hpp"
#include "guard_fixtures.hpp"

using lug::guard::classify;
using lug::guard::uninstall_job;
using lug::test::job_pod;
using lug::test::pod_create;

TEST_SUITE("which pods the guard acts on") {
  const uninstall_job job{};

  TEST_CASE("a pod of the uninstall Job created in the Longhorn namespace is in scope") {
    CHECK(classify(pod_create(job_pod()), job).in_scope);
  }
  TEST_CASE("either job-name label alone is enough") {
    auto pod = job_pod();
    pod["metadata"].erase("ownerReferences");
    pod["metadata"]["labels"].erase("job-name");
    CHECK(classify(pod_create(pod), job).in_scope);
    pod = job_pod();
    pod["metadata"].erase("ownerReferences");
    pod["metadata"]["labels"].erase("batch.kubernetes.io/job-name");
    CHECK(classify(pod_create(pod), job).in_scope);
  }
  TEST_CASE("a controller ownerReference to the Job is enough without labels") {
    auto pod = job_pod();
    pod["metadata"].erase("labels");
    CHECK(classify(pod_create(pod), job).in_scope);
  }
  TEST_CASE("an ownerReference that is not the controller, or not a batch Job, does not count") {
    auto pod = job_pod();
    pod["metadata"].erase("labels");
    pod["metadata"]["ownerReferences"][0]["controller"] = false;
    CHECK_FALSE(classify(pod_create(pod), job).in_scope);
    pod["metadata"]["ownerReferences"][0]["controller"] = true;
    pod["metadata"]["ownerReferences"][0]["apiVersion"] = "example.com/v1";
    CHECK_FALSE(classify(pod_create(pod), job).in_scope);
  }
  TEST_CASE("a pod of another Job is out of scope") {
    CHECK_FALSE(classify(pod_create(job_pod("longhorn-system", "nightly-report")), job).in_scope);
  }
  TEST_CASE("the uninstall Job's name in another namespace is out of scope") {
    CHECK_FALSE(classify(pod_create(job_pod("default"), "default"), job).in_scope);
  }
  TEST_CASE("operations other than CREATE are out of scope") {
    for (const char* op : {"UPDATE", "DELETE", "CONNECT"}) {
      auto request = pod_create(job_pod());
      request.operation = op;
      CHECK_FALSE(classify(request, job).in_scope);
    }
  }
  TEST_CASE("subresources and other kinds are out of scope") {
    auto request = pod_create(job_pod());
    request.sub_resource = "ephemeralcontainers";
    CHECK_FALSE(classify(request, job).in_scope);
    request = pod_create(job_pod());
    request.resource = "configmaps";
    request.kind = "ConfigMap";
    CHECK_FALSE(classify(request, job).in_scope);
  }
  TEST_CASE("the namespace and Job name are configurable") {
    const uninstall_job custom{"storage", "remove-longhorn"};
    CHECK(classify(pod_create(job_pod("storage", "remove-longhorn"), "storage"), custom).in_scope);
    CHECK_FALSE(classify(pod_create(job_pod()), custom).in_scope);
  }
  TEST_CASE("malformed metadata reads as out of scope rather than failing") {
    for (const char* bad : {R"({"metadata":"str"})", R"({"metadata":{"labels":"str","ownerReferences":{}}})",
                            R"({"metadata":{"labels":{"job-name":7},"ownerReferences":[1,null,"x"]}})", "null"}) {
      CAPTURE(bad);
      CHECK_FALSE(classify(pod_create(nlohmann::json::parse(bad)), job).in_scope);
    }
  }
}
