package fetch

// Design notes: where destinations are checked.
//
// A fetch is refused at two points, and both produce a *BlockedError:
//
//  1. Before each request, including every redirect hop, the URL's scheme and
//     host name are checked (checkURL): metadata host names, DenyHosts and
//     AllowHosts patterns.
//  2. When a connection is about to be made, the dialer's Control hook sees the
//     IP address actually being dialled (checkAddr): link-local and cloud
//     metadata addresses, private addresses when DenyPrivate is set, and
//     IP/CIDR entries of DenyHosts. Because this runs after name resolution
//     and for every connection, a host name that resolves to a blocked address
//     is refused however the fetch got there (first request or redirect).
//
// Connections are never reused (keep-alives are off) and proxies from the
// environment are ignored, so the Control check sees every destination.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// ErrBlocked is matched (with errors.Is) by every *BlockedError.
var ErrBlocked = errors.New("destination blocked")

// BlockedError reports a destination refused by the server's security policy.
type BlockedError struct {
	// Host is the host name from the URL (empty if the block is about an
	// address the host name is unknown for).
	Host string
	// Addr is the refused IP address, when the block is by address.
	Addr netip.Addr
	// Reason says what rule refused the destination, as shown to users,
	// e.g. "matches deny_hosts pattern \"*.internal\"".
	Reason string
}

func (e *BlockedError) Error() string {
	switch {
	case e.Addr.IsValid() && e.Host != "" && e.Host != e.Addr.String():
		return fmt.Sprintf("host %s resolves to address %s, which %s", e.Host, e.Addr, e.Reason)
	case e.Addr.IsValid():
		return fmt.Sprintf("address %s %s", e.Addr, e.Reason)
	default:
		return fmt.Sprintf("host %s %s", e.Host, e.Reason)
	}
}

// Unwrap makes errors.Is(err, ErrBlocked) true.
func (e *BlockedError) Unwrap() error { return ErrBlocked }

const (
	reasonLinkLocal = "is link-local/cloud metadata and is blocked (set allow_link_local to permit)"
	reasonMetaName  = "is a cloud metadata endpoint and is blocked (set allow_link_local to permit)"
	reasonPrivate   = "is not a public address and is blocked (deny_private is set)"
)

// metadataHosts are cloud metadata host names refused unless AllowLinkLocal.
var metadataHosts = []string{
	"metadata.google.internal",
	"metadata.goog",
}

// metadataAddrs are cloud metadata addresses outside the link-local ranges.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("fd00:ec2::254"),   // AWS IMDS over IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
}

// isLinkLocalOrMetadata reports whether a is link-local (169.254.0.0/16,
// fe80::/10), including IPv4-mapped forms, or a known cloud metadata address.
func isLinkLocalOrMetadata(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() {
		return true
	}
	for _, m := range metadataAddrs {
		if a == m {
			return true
		}
	}
	return false
}

var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10") // RFC 6598 carrier-grade NAT

// isNonPublic reports whether a is loopback, private, shared (CGNAT),
// unspecified or multicast: everything DenyPrivate refuses.
func isNonPublic(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsUnspecified() || a.IsMulticast() ||
		sharedAddressSpace.Contains(a)
}

// hostPattern is one AllowHosts/DenyHosts entry.
type hostPattern struct {
	raw    string
	exact  string       // lower-case host, when an exact name or IP
	suffix string       // ".example.com" for "*.example.com"
	prefix netip.Prefix // for IP and CIDR entries
}

// parseHostPattern parses an entry: an exact host name, "*.suffix", an IP
// address or a CIDR prefix.
func parseHostPattern(s string) (hostPattern, error) {
	p := hostPattern{raw: s}
	t := normalizeHost(s)
	if t == "" {
		return p, fmt.Errorf("invalid host pattern %q: empty", s)
	}
	if a, err := netip.ParseAddr(t); err == nil {
		if a.Zone() != "" {
			return p, fmt.Errorf("invalid host pattern %q: IPv6 zones are not supported", s)
		}
		a = a.Unmap()
		p.exact = a.String()
		p.prefix = netip.PrefixFrom(a, a.BitLen())
		return p, nil
	}
	if ip, _, ok := strings.Cut(t, "/"); ok {
		if _, err := netip.ParseAddr(ip); err == nil {
			pfx, err := netip.ParsePrefix(t)
			if err != nil {
				return p, fmt.Errorf("invalid host pattern %q: not a CIDR prefix: %w", s, err)
			}
			p.prefix = pfx.Masked()
			return p, nil
		}
	}
	if rest, ok := strings.CutPrefix(t, "*."); ok {
		if err := checkPatternName(rest); err != nil {
			return p, fmt.Errorf("invalid host pattern %q: %w", s, err)
		}
		p.suffix = "." + rest
		return p, nil
	}
	if err := checkPatternName(t); err != nil {
		return p, fmt.Errorf("invalid host pattern %q: %w", s, err)
	}
	p.exact = t
	return p, nil
}

// checkPatternName accepts host names: no scheme, port, path, wildcard or
// empty label.
func checkPatternName(name string) error {
	if name == "" {
		return errors.New("empty host name")
	}
	if i := strings.IndexAny(name, ":/?#@*[] \t"); i >= 0 {
		return fmt.Errorf("unexpected %q: give a host name like example.com or *.example.com, without scheme, port or path", name[i])
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" {
			return errors.New("empty label")
		}
	}
	return nil
}

// normalizeHost lower-cases a host, strips IPv6 brackets and one trailing dot.
func normalizeHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	h = strings.TrimSuffix(h, ".")
	return h
}

// matchHost reports whether the normalized URL host h matches p.
func (p hostPattern) matchHost(h string) bool {
	if a, err := netip.ParseAddr(h); err == nil {
		return p.prefix.IsValid() && p.prefix.Contains(a.Unmap().WithZone(""))
	}
	if p.suffix != "" {
		return strings.HasSuffix(h, p.suffix)
	}
	return p.exact != "" && h == p.exact
}

// matchAddr reports whether the dialled address a matches an IP/CIDR pattern.
func (p hostPattern) matchAddr(a netip.Addr) bool {
	return p.prefix.IsValid() && p.prefix.Contains(a.Unmap().WithZone(""))
}

// policy is the compiled security configuration.
type policy struct {
	allow          []hostPattern
	deny           []hostPattern
	allowLinkLocal bool
	denyPrivate    bool
}

func newPolicy(allow, deny []string, allowLinkLocal, denyPrivate bool) (*policy, error) {
	p := &policy{allowLinkLocal: allowLinkLocal, denyPrivate: denyPrivate}
	for _, s := range allow {
		hp, err := parseHostPattern(s)
		if err != nil {
			return nil, fmt.Errorf("allow_hosts: %w", err)
		}
		p.allow = append(p.allow, hp)
	}
	for _, s := range deny {
		hp, err := parseHostPattern(s)
		if err != nil {
			return nil, fmt.Errorf("deny_hosts: %w", err)
		}
		p.deny = append(p.deny, hp)
	}
	return p, nil
}

// errScheme is returned for URLs that are not http or https.
type schemeError struct{ scheme string }

func (e *schemeError) Error() string {
	if e.scheme == "" {
		return "URL has no scheme; give an absolute http:// or https:// URL"
	}
	return fmt.Sprintf("unsupported scheme %q: only http and https URLs can be fetched", e.scheme)
}

// checkURL checks the scheme and host name of u (the first URL or a
// redirect hop). Address checks happen at dial time (checkAddr).
func (p *policy) checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return &schemeError{scheme: u.Scheme}
	}
	h := normalizeHost(u.Hostname())
	if h == "" {
		return errors.New("URL has no host")
	}
	return p.checkHost(h)
}

// checkHost applies the name rules to a normalized host.
func (p *policy) checkHost(h string) error {
	if !p.allowLinkLocal {
		for _, m := range metadataHosts {
			if h == m {
				return &BlockedError{Host: h, Reason: reasonMetaName}
			}
		}
	}
	if a, err := netip.ParseAddr(h); err == nil {
		// IP literals get the address rules here too, for an early and
		// consistent error; the dial check enforces them regardless.
		if err := p.checkAddr("", a); err != nil {
			return err
		}
	}
	for _, d := range p.deny {
		if d.matchHost(h) {
			return &BlockedError{Host: h, Reason: fmt.Sprintf("matches deny_hosts pattern %q and is blocked", d.raw)}
		}
	}
	if len(p.allow) > 0 {
		for _, a := range p.allow {
			if a.matchHost(h) {
				return nil
			}
		}
		return &BlockedError{Host: h, Reason: "is not in allow_hosts and is blocked (add it to allow_hosts to permit)"}
	}
	return nil
}

// checkAddr applies the address rules to an IP about to be dialled for host.
func (p *policy) checkAddr(host string, a netip.Addr) error {
	a = a.Unmap()
	if !p.allowLinkLocal && isLinkLocalOrMetadata(a) {
		return &BlockedError{Host: host, Addr: a, Reason: reasonLinkLocal}
	}
	if p.denyPrivate && isNonPublic(a) {
		return &BlockedError{Host: host, Addr: a, Reason: reasonPrivate}
	}
	for _, d := range p.deny {
		if d.matchAddr(a) {
			return &BlockedError{Host: host, Addr: a, Reason: fmt.Sprintf("matches deny_hosts pattern %q and is blocked", d.raw)}
		}
	}
	return nil
}

// Resolver resolves host names to IP addresses. *net.Resolver implements it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// dialer refuses blocked addresses in the net.Dialer Control hook, just
// before connect(2). With a custom Resolver it resolves with it and dials
// each address in turn; otherwise it leaves both to net.Dialer.
type dialer struct {
	policy *policy
	res    Resolver // nil: the standard resolver
}

func (d *dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	nd := &net.Dialer{
		Control: func(_, addr string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(addr)
			if err != nil {
				return fmt.Errorf("unexpected dial address %q: %w", addr, err)
			}
			return d.policy.checkAddr(normalizeHost(host), ap.Addr())
		},
	}
	if d.res == nil {
		// The standard resolver and dialer (with Happy Eyeballs); Control
		// still sees every address tried.
		return nd.DialContext(ctx, network, address)
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		addrs, err = d.res.LookupNetIP(ctx, ipNetwork(network), strings.ToLower(host))
		if err != nil {
			return nil, err
		}
		if len(addrs) == 0 {
			return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
	}
	var firstErr error
	for _, a := range addrs {
		c, err := nd.DialContext(ctx, network, net.JoinHostPort(a.String(), portStr))
		if err == nil {
			return c, nil
		}
		// Prefer reporting a policy refusal over a later connection error.
		if firstErr == nil || (errors.Is(err, ErrBlocked) && !errors.Is(firstErr, ErrBlocked)) {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}

func ipNetwork(network string) string {
	switch network {
	case "tcp4":
		return "ip4"
	case "tcp6":
		return "ip6"
	}
	return "ip"
}
