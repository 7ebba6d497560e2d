package directory

import (
	"strings"

	"github.com/kurodenwa/kurodenwa/internal/mantela"
	"github.com/kurodenwa/kurodenwa/internal/route"
)

// The router consults a Directory through this interface.
var _ route.Directory = (*Directory)(nil)

// Lookup implements route.Directory: digits dialled here that begin with
// the preferred prefix of an exchange other than ours. Prefixes are tried
// longest first; a match whose target lists the rest as an extension wins
// over one that does not (exchanges publish their public extensions only,
// so an unlisted one still routes when nothing better matches). A prefix
// several exchanges prefer is ambiguous and skipped.
func (d *Directory) Lookup(digits string, avoid []string) (route.DirectoryRoute, bool) {
	v := d.view.Load()
	model := d.model
	if strings.ContainsAny(digits, "*#") && model != mantela.HopCount {
		// The caller dialled * or # already, so a push-button phone it is.
		model = mantela.PushButton
	}
	var fallback *route.DirectoryRoute
	for _, m := range v.graph.PrefixMatches(digits) {
		if len(m.Identifiers) != 1 {
			d.log.Debug("mantela: ambiguous preferred prefix", "prefix", m.Prefix, "exchanges", m.Identifiers)
			continue
		}
		if m.Identifiers[0] == d.self.AboutMe.Identifier {
			continue
		}
		path, err := v.graph.RouteAvoiding(d.self.AboutMe.Identifier, m.Identifiers[0], m.Rest, model, avoid)
		if err != nil {
			continue
		}
		found := directoryRoute(m, path)
		if path.Terminal != nil {
			return found, true
		}
		if fallback == nil {
			fallback = &found
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return route.DirectoryRoute{}, false
}

func directoryRoute(m mantela.PrefixMatch, path mantela.Path) route.DirectoryRoute {
	target := path.Hops[len(path.Hops)-1]
	r := route.DirectoryRoute{
		Exchange:  target.Identifier,
		Name:      target.Name,
		Prefix:    m.Prefix,
		Extension: path.Extension,
		Number:    path.Number,
	}
	for _, hop := range path.Hops[1:] {
		r.Via = append(r.Via, hop.Identifier)
		r.Names = append(r.Names, nameOf(hop))
	}
	return r
}

func nameOf(hop mantela.Hop) string {
	if hop.Name != "" {
		return hop.Name
	}
	return hop.Identifier
}
