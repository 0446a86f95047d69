package fetch

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func FuzzHostPattern(f *testing.F) {
	for _, s := range [][2]string{
		{"example.com", "example.com"},
		{"*.example.com", "a.b.example.com"},
		{"*.example.com", "example.com"},
		{"EXAMPLE.com.", "example.COM"},
		{"10.0.0.0/8", "10.1.2.3"},
		{"::1", "[::1]"},
		{"::ffff:127.0.0.1", "127.0.0.1"},
		{"*.", "x"},
		{"a..b", "a..b"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, host string) {
		p, err := parseHostPattern(pattern)
		if err != nil {
			return
		}
		h := normalizeHost(host)
		if p.matchHost(h) {
			a, ipErr := netip.ParseAddr(h)
			switch {
			case ipErr == nil:
				if !p.prefix.IsValid() || !p.prefix.Contains(a.Unmap().WithZone("")) {
					t.Errorf("pattern %q matched IP host %q outside its prefix %v", pattern, h, p.prefix)
				}
			case p.suffix != "":
				if !strings.HasSuffix(h, p.suffix) || h == p.suffix[1:] {
					t.Errorf("pattern %q matched host %q without the suffix %q", pattern, h, p.suffix)
				}
			default:
				if h != p.exact {
					t.Errorf("exact pattern %q matched a different host %q", pattern, h)
				}
			}
		}
		// A name pattern matches itself and (for *.suffix) a subdomain,
		// whatever the case and a trailing dot.
		switch {
		case p.suffix != "":
			sub := "x" + p.suffix
			if !p.matchHost(sub) || !p.matchHost(normalizeHost(asciiUpper(sub)+".")) {
				t.Errorf("pattern %q does not match its subdomain %q", pattern, sub)
			}
		case p.exact != "":
			if !p.matchHost(p.exact) {
				t.Errorf("pattern %q does not match itself (%q)", pattern, p.exact)
			}
		}
	})
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"http://example.com/", "https://a.deny.test/x", "http://169.254.169.254/latest",
		"http://[::ffff:a9fe:a9fe]/", "http://[fe80::1%25eth0]/", "http://metadata.google.internal./",
		"http://10.1.2.3:8080/", "ftp://x/", "//host/path", "http://", "HTTP://EXAMPLE.COM",
	} {
		f.Add(s)
	}
	p, err := newPolicy(nil, []string{"*.deny.test", "10.0.0.0/8"}, false, false)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		if p.checkURL(u) != nil {
			return
		}
		// Accepted: it must be an http(s) URL with a host that no rule refuses.
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("accepted scheme %q in %q", u.Scheme, raw)
		}
		h := normalizeHost(u.Hostname())
		if h == "" {
			t.Fatalf("accepted %q without a host", raw)
		}
		if strings.HasSuffix(h, ".deny.test") || h == "metadata.google.internal" || h == "metadata.goog" {
			t.Fatalf("accepted denied host %q in %q", h, raw)
		}
		if a, err := netip.ParseAddr(h); err == nil {
			if isLinkLocalOrMetadata(a) || netip.MustParsePrefix("10.0.0.0/8").Contains(a.Unmap().WithZone("")) {
				t.Fatalf("accepted blocked address %v in %q", a, raw)
			}
		}
	})
}

func FuzzCheckAddr(f *testing.F) {
	f.Add([]byte{169, 254, 169, 254})
	f.Add([]byte{100, 100, 100, 200})
	f.Add([]byte{127, 0, 0, 1})
	f.Add([]byte{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	pols := []*policy{}
	for _, dp := range []bool{false, true} {
		p, err := newPolicy(nil, []string{"192.0.2.0/24"}, false, dp)
		if err != nil {
			f.Fatal(err)
		}
		pols = append(pols, p)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, ok := netip.AddrFromSlice(b)
		if !ok {
			return
		}
		for _, p := range pols {
			err := p.checkAddr("", a)
			// An IPv4 address and its IPv4-mapped IPv6 form get the same answer.
			if a.Is4() {
				mapped := netip.AddrFrom16(a.As16())
				if (err == nil) != (p.checkAddr("", mapped) == nil) {
					t.Fatalf("%v and %v are treated differently (deny_private=%v)", a, mapped, p.denyPrivate)
				}
			}
			if err == nil && isLinkLocalOrMetadata(a) {
				t.Fatalf("link-local %v accepted", a)
			}
			if err == nil && p.denyPrivate && isNonPublic(a) {
				t.Fatalf("non-public %v accepted with deny_private", a)
			}
		}
	})
}

// asciiUpper upper-cases ASCII letters only (DNS names are case-insensitive
// in ASCII; Unicode case mapping does not round-trip).
func asciiUpper(s string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s)
}
