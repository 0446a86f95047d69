package egress_test

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"

	"github.com/mcp-agent-go/mcp-agent/cloud/runtime/egress"
)

// The proxy refuses the cloud metadata address even when the allowlist
// allows every host.
func Example() {
	p, err := egress.New([]string{"*"}, &egress.Options{
		OnDeny: func(d egress.Denial) { fmt.Println("denied:", d) },
	})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go p.Serve(ln)
	defer p.Close()

	proxy, _ := url.Parse("http://" + ln.Addr().String())
	tr := &http.Transport{Proxy: http.ProxyURL(proxy)}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("http://169.254.169.254/latest/meta-data/")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(resp.Status, ": ", string(body))
	// Output:
	// denied: 169.254.169.254:80: resolves to 169.254.169.254, a link-local, metadata or non-unicast address, which is never allowed
	// 403 Forbidden: egress denied: 169.254.169.254:80: resolves to 169.254.169.254, a link-local, metadata or non-unicast address, which is never allowed
}
