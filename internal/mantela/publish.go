package mantela

import (
	"cmp"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/kurodenwa/kurodenwa/internal/site"
)

// PublishedVersion is the Mantela version FromSite writes.
const PublishedVersion = "0.1.0"

// Extension types FromSite publishes, from the schema's list.
const (
	// TypeDialphone is a rotary-dial telephone: the black phone.
	TypeDialphone = "dialphone"
	// TypeCellphone is a phone carried about; the community uses it for
	// softphones on smartphones (Linphone, AGEphone), as the schema's own
	// example does.
	TypeCellphone = "cellphone"
	// TypeMain is a representative number that rings others (transferTo).
	TypeMain = "main"
)

// FromSite returns the document this exchange publishes: aboutMe from the
// exchange section, the extensions and ring groups marked public, the peers
// as providers and, when the site has a hop prefix, the exchange's own
// ("self") provider entry, which lets others route through it. The result
// is deterministic (sorted by number, then name), so that a render twice
// yields the same bytes.
//
// Peers without an identifier are left out: a provider entry must name the
// exchange it leads to. A peer's unknown mantela URL is published as "", as
// the schema requires the key.
func FromSite(s *site.Site) *Document {
	x := s.Exchange
	doc := &Document{
		Schema:  SchemaURL,
		Version: PublishedVersion,
		AboutMe: AboutMe{
			Name:            x.Name,
			Identifier:      x.Identifier,
			PreferredPrefix: []string{},
			SIPURI:          SIPURIs(s),
		},
		Extensions: []Extension{},
		Providers:  []Provider{},
	}
	if x.PreferredPrefix != "" {
		doc.AboutMe.PreferredPrefix = []string{x.PreferredPrefix}
	}
	doc.Extensions = publishedExtensions(s)
	doc.Providers = publishedProviders(s)
	return doc
}

func publishedExtensions(s *site.Site) []Extension {
	exts := []Extension{}
	for name, e := range s.Extensions {
		if !e.Public {
			continue
		}
		ext := Extension{
			Name:       cmp.Or(e.DisplayName, name),
			Extension:  e.Number,
			Identifier: ExtensionIdentifier(s.Exchange.Identifier, name),
			Type:       TypeCellphone,
		}
		if e.Kind == site.KindBlackPhone {
			ext.Type = TypeDialphone
		}
		exts = append(exts, ext)
	}
	for name, g := range s.RingGroups {
		if !g.Public {
			continue
		}
		// Every member is listed, published or not: the identifiers are
		// opaque, and the schema requires transferTo of a main number.
		members := make([]string, 0, len(g.Members))
		for _, m := range g.Members {
			members = append(members, ExtensionIdentifier(s.Exchange.Identifier, m))
		}
		exts = append(exts, Extension{
			Name:       cmp.Or(g.DisplayName, name),
			Extension:  g.Number,
			Identifier: ExtensionIdentifier(s.Exchange.Identifier, name),
			Type:       TypeMain,
			TransferTo: members,
		})
	}
	slices.SortFunc(exts, func(a, b Extension) int {
		return cmp.Or(strings.Compare(a.Extension, b.Extension), strings.Compare(a.Identifier, b.Identifier))
	})
	return exts
}

func publishedProviders(s *site.Site) []Provider {
	providers := []Provider{}
	names := make([]string, 0, len(s.Peers))
	for name := range s.Peers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p := s.Peers[name]
		if p.Identifier == "" {
			continue
		}
		providers = append(providers, Provider{
			Name:       cmp.Or(p.DisplayName, name),
			Prefix:     p.Prefix,
			Identifier: p.Identifier,
			Mantela:    p.Mantela,
		})
	}
	if s.Exchange.HopPrefix != "" {
		// The self entry: dialling it at this exchange searches outward
		// again, which is what makes hop numbers through us work.
		providers = append(providers, Provider{
			Name:       s.Exchange.Name,
			Prefix:     s.Exchange.HopPrefix,
			Identifier: s.Exchange.Identifier,
			Mantela:    "",
		})
	}
	return providers
}

// ExtensionIdentifier is the published identifier of an extension or ring
// group: a name-based UUID (version 5) in the exchange's UUID namespace, so
// it stays the same across renders and restarts, differs between
// exchanges, and reveals nothing but itself. An exchange identifier that is
// not a UUID (the site refuses one) is first hashed into a namespace.
func ExtensionIdentifier(exchange, name string) string {
	ns, err := uuid.Parse(exchange)
	if err != nil {
		ns = uuid.NewSHA1(uuid.Nil, []byte(exchange))
	}
	return uuid.NewSHA1(ns, []byte("extension/"+name)).String()
}

// SIPURIs lists where other exchanges can send calls: one URI per enabled
// transport, at the external signalling address when the site has one,
// else at the transport's own address unless that is a wildcard or
// loopback one, which would mean nothing to another exchange.
func SIPURIs(s *site.Site) []string {
	var uris []string
	add := func(scheme, bind, transport string) {
		host, port, err := net.SplitHostPort(bind)
		if err != nil {
			return
		}
		if ext := s.Exchange.NAT.ExternalSignalingAddress; ext != "" {
			host = ext
		} else if ip, err := netip.ParseAddr(host); err != nil || ip.IsUnspecified() || ip.IsLoopback() {
			return
		}
		uris = append(uris, scheme+":"+net.JoinHostPort(host, port)+";transport="+transport)
	}
	sip := s.Exchange.SIP
	if sip.UDP != "" {
		add("sip", sip.UDP, "udp")
	}
	if sip.TCP != "" {
		add("sip", sip.TCP, "tcp")
	}
	if sip.TLS.Bind != "" {
		add("sips", sip.TLS.Bind, "tls")
	}
	return uris
}
