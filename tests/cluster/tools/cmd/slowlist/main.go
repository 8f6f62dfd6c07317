// Command slowlist is a reverse proxy in front of kube-apiserver that delays, with a given
// probability, the LIST of Longhorn Settings: the request whose late answer makes
// longhorn-manager's uninstall read the flag from an empty informer cache
// (longhorn/longhorn#10483). Every other request, the watches included, passes at once.
//
// The cluster tests point only the uninstall container at it (KUBERNETES_SERVICE_PORT in
// that container's env), so the race happens more often than the few percent it happens on
// its own, in the same place and the same way: the informer's first LIST answered after the
// uninstall controller's caches, which never include Settings, have synced.
//
//	slowlist --listen 10.213.0.1:6444 --upstream https://10.213.0.1:6443 \
//	  --cert serving.crt --key serving.key --ca ca.crt --probability 0.5 --delay 4s
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log"
	"math/rand"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// isSettingsList: GET .../longhorn.io/<version>/[namespaces/<ns>/]settings, not a watch.
func isSettingsList(r *http.Request) bool {
	if r.Method != http.MethodGet || r.URL.Query().Get("watch") == "true" || r.URL.Query().Get("watch") == "1" {
		return false
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	// apis, longhorn.io, v1beta2, [namespaces, NS,] settings
	if len(parts) < 4 || parts[0] != "apis" || parts[1] != "longhorn.io" {
		return false
	}
	return parts[len(parts)-1] == "settings"
}

func main() {
	listen := flag.String("listen", "", "ADDRESS:PORT to serve on")
	upstream := flag.String("upstream", "", "the API server's URL")
	certFile := flag.String("cert", "", "serving certificate (the API server's own will do)")
	keyFile := flag.String("key", "", "its key")
	caFile := flag.String("ca", "", "CA bundle that verifies the API server")
	probability := flag.Float64("probability", 0.5, "chance that a Settings LIST is delayed")
	delay := flag.Duration("delay", 4*time.Second, "how long a delayed Settings LIST waits before it is sent on")
	seed := flag.Int64("seed", time.Now().UnixNano(), "random seed (printed, so a run can be repeated)")
	flag.Parse()
	if *listen == "" || *upstream == "" || *certFile == "" || *keyFile == "" || *caFile == "" {
		fmt.Fprintln(os.Stderr, "slowlist: --listen, --upstream, --cert, --key and --ca are required")
		os.Exit(2)
	}
	if *probability < 0 || *probability > 1 {
		fmt.Fprintln(os.Stderr, "slowlist: --probability must be within [0, 1]")
		os.Exit(2)
	}
	target, err := url.Parse(*upstream)
	if err != nil {
		log.Fatalf("slowlist: --upstream: %v", err)
	}
	caPEM, err := os.ReadFile(*caFile)
	if err != nil {
		log.Fatalf("slowlist: %v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		log.Fatalf("slowlist: no certificate in %s", *caFile)
	}

	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}
	// Watches stream: pass every event on as it comes.
	proxy.FlushInterval = -1

	var mu sync.Mutex
	random := rand.New(rand.NewSource(*seed))
	log.Printf("slowlist: %s -> %s, Settings LISTs delayed by %s with probability %.2f (seed %d)",
		*listen, *upstream, *delay, *probability, *seed)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isSettingsList(r) {
			mu.Lock()
			slow := random.Float64() < *probability
			mu.Unlock()
			if slow {
				log.Printf("slowlist: delaying %s %s by %s", r.Method, r.URL.RequestURI(), *delay)
				select {
				case <-time.After(*delay):
				case <-r.Context().Done():
					return
				}
			}
		}
		proxy.ServeHTTP(w, r)
	})
	server := &http.Server{Addr: *listen, Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(server.ListenAndServeTLS(*certFile, *keyFile))
}
