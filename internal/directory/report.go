package directory

import (
	"fmt"
	"strings"

	"github.com/kurodenwa/kurodenwa/internal/mantela"
	"github.com/kurodenwa/kurodenwa/internal/site"
)

// RouteReport answers "how would a call reach this extension?" for the
// HTTP API: the path the router would take and the other first peers.
type RouteReport struct {
	From         Exchange     `json:"from"`
	To           string       `json:"to"`
	Extension    string       `json:"extension"`
	CostModel    string       `json:"cost_model"`
	Unit         string       `json:"unit"`
	Best         PathReport   `json:"best"`
	Alternatives []PathReport `json:"alternatives"`
}

// Exchange names one exchange.
type Exchange struct {
	Identifier string `json:"identifier"`
	Name       string `json:"name"`
}

// PathReport is one way to the extension.
type PathReport struct {
	// Number is what a caller dials here.
	Number string `json:"number"`
	Cost   int64  `json:"cost"`
	// Peer is the site's name of the first peer, Trunk its endpoint and
	// Send what is dialled there: Number without our prefix for it.
	Peer  string      `json:"peer,omitempty"`
	Trunk string      `json:"trunk,omitempty"`
	Send  string      `json:"send,omitempty"`
	Hops  []HopReport `json:"hops"`
	// Listed says whether the target's document lists the extension.
	Listed bool `json:"listed"`
}

// HopReport is one exchange on a path and the digits that reach it.
type HopReport struct {
	Identifier string `json:"identifier"`
	Name       string `json:"name"`
	Dialled    string `json:"dialled,omitempty"`
}

// Routes reports the best path from this exchange to extension on the
// exchange to (an identifier or preferred prefix) under model ("" for the
// directory's own), and the best path through each other first peer. The
// errors wrap mantela's (ErrUnknownExchange, ErrNoRoute, ErrNotDialable, …).
func (d *Directory) Routes(to, extension, model string) (RouteReport, error) {
	m := d.model
	if model != "" {
		var err error
		if m, err = mantela.ParseCostModel(model); err != nil {
			return RouteReport{}, fmt.Errorf("directory: %w: %w", mantela.ErrNotDialable, err)
		}
	}
	v := d.view.Load()
	paths, err := v.graph.Alternatives(d.self.AboutMe.Identifier, to, extension, m, 0)
	if err != nil {
		return RouteReport{}, fmt.Errorf("directory: %w", err)
	}
	r := RouteReport{
		From:      Exchange{Identifier: d.self.AboutMe.Identifier, Name: d.self.AboutMe.Name},
		To:        to,
		Extension: extension,
		CostModel: m.String(),
		Unit:      m.Unit(),
		Best:      d.pathReport(paths[0]),
	}
	r.Alternatives = make([]PathReport, 0, len(paths)-1)
	for _, p := range paths[1:] {
		r.Alternatives = append(r.Alternatives, d.pathReport(p))
	}
	return r, nil
}

func (d *Directory) pathReport(p mantela.Path) PathReport {
	r := PathReport{Number: p.Number, Cost: p.Cost, Listed: p.Terminal != nil, Hops: make([]HopReport, len(p.Hops))}
	for i, hop := range p.Hops {
		r.Hops[i] = HopReport{Identifier: hop.Identifier, Name: hop.Name, Dialled: hop.Dialled}
	}
	if peer, ok := d.peers[p.FirstPeer]; ok {
		r.Peer = peer.name
		r.Trunk = site.PeerEndpoint(peer.name)
		r.Send = strings.TrimPrefix(p.Number, peer.prefix)
	}
	return r
}
