package mantela

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

var (
	// ErrUnknownExchange reports an origin or target that matches no
	// exchange's identifier or preferred prefix.
	ErrUnknownExchange = errors.New("unknown exchange")
	// ErrAmbiguousExchange reports a preferred prefix claimed by several
	// exchanges.
	ErrAmbiguousExchange = errors.New("ambiguous exchange")
	// ErrExchangeUnavailable reports a target whose document marks it
	// unavailable.
	ErrExchangeUnavailable = errors.New("exchange unavailable")
	// ErrNotDialable reports an extension the cost model cannot dial, or an
	// unknown cost model.
	ErrNotDialable = errors.New("not dialable")
	// ErrNoRoute reports that no chain of providers reaches the target.
	ErrNoRoute = errors.New("no route")
)

// modelCount sizes the per-model cost tables.
const modelCount = int(HopCount) + 1

// Graph is the directed graph of exchanges: an edge X → P for every
// available provider entry of X with a non-empty prefix, except X's own
// ("self") entries, which instead let X be passed through. It is immutable
// after NewGraph and safe for concurrent use.
type Graph struct {
	nodes        []graphNode
	byIdentifier map[string]int32
	byPrefix     map[string][]int32
	// longestPrefix bounds the search in PrefixMatches.
	longestPrefix int
}

type graphNode struct {
	identifier string
	name       string
	// hasDocument is false for exchanges known only from another exchange's
	// providers list; they can be reached but not passed through.
	hasDocument bool
	unavailable bool
	edges       []graphEdge
	// selfPrefixes holds the dialable self prefixes; bestSelf indexes the
	// cheapest one per cost model, or -1 when the model cannot dial any.
	selfPrefixes []string
	bestSelf     [modelCount]int32
	// extensions indexes the document's extensions by number.
	extensions map[string]*Extension
}

type graphEdge struct {
	to     int32
	prefix string
	// cost holds stepCost(prefix) per model, or -1 when the model cannot
	// dial the prefix.
	cost [modelCount]int64
}

// NewGraph builds the routing graph from documents. When several documents
// share an identifier the first one wins; nil documents and documents
// without an identifier are skipped. Path.Terminal points into the
// documents' Extensions, so the documents must not be modified afterwards.
func NewGraph(docs []*Document) *Graph {
	g := &Graph{
		byIdentifier: make(map[string]int32, len(docs)),
		byPrefix:     make(map[string][]int32),
	}
	var withDocument []*Document
	for _, doc := range docs {
		if doc == nil || doc.AboutMe.Identifier == "" {
			continue
		}
		if _, dup := g.byIdentifier[doc.AboutMe.Identifier]; dup {
			continue
		}
		index := g.addNode(doc.AboutMe.Identifier, doc.AboutMe.Name)
		node := &g.nodes[index]
		node.hasDocument = true
		node.unavailable = doc.AboutMe.Unavailable
		for _, prefix := range doc.AboutMe.PreferredPrefix {
			if prefix != "" && !slices.Contains(g.byPrefix[prefix], index) {
				g.byPrefix[prefix] = append(g.byPrefix[prefix], index)
				g.longestPrefix = max(g.longestPrefix, len(prefix))
			}
		}
		node.selfPrefixes = doc.SelfPrefixes()
		node.extensions = make(map[string]*Extension, len(doc.Extensions))
		for i := range doc.Extensions {
			extension := &doc.Extensions[i]
			if _, dup := node.extensions[extension.Extension]; !dup {
				node.extensions[extension.Extension] = extension
			}
		}
		withDocument = append(withDocument, doc)
	}
	// Edges are added once every document has its node, so that a
	// provider's node carries the name from its own document.
	for _, doc := range withDocument {
		from := g.byIdentifier[doc.AboutMe.Identifier]
		for _, provider := range doc.Providers {
			if provider.Unavailable || provider.Prefix == "" || provider.Identifier == "" ||
				provider.Identifier == doc.AboutMe.Identifier {
				continue
			}
			to, ok := g.byIdentifier[provider.Identifier]
			if !ok {
				to = g.addNode(provider.Identifier, provider.Name)
			}
			edge := graphEdge{to: to, prefix: provider.Prefix}
			usable := false
			for model := PushButton; model <= HopCount; model++ {
				cost, ok := model.stepCost(provider.Prefix)
				if !ok {
					cost = -1
				}
				usable = usable || ok
				edge.cost[model] = cost
			}
			if usable {
				g.nodes[from].edges = append(g.nodes[from].edges, edge)
			}
		}
	}
	for i := range g.nodes {
		node := &g.nodes[i]
		for model := PushButton; model <= HopCount; model++ {
			node.bestSelf[model] = cheapestPrefix(node.selfPrefixes, model)
		}
	}
	return g
}

func (g *Graph) addNode(identifier, name string) int32 {
	index := int32(len(g.nodes))
	g.nodes = append(g.nodes, graphNode{identifier: identifier, name: name})
	g.byIdentifier[identifier] = index
	return index
}

// cheapestPrefix returns the index of the prefix cheapest to dial under
// model, shorter first on equal cost, or -1 if none is dialable.
func cheapestPrefix(prefixes []string, model CostModel) int32 {
	best := int32(-1)
	var bestCost int64
	for i, prefix := range prefixes {
		cost, ok := model.DialCost(prefix)
		if !ok {
			continue
		}
		if best < 0 || cost < bestCost || (cost == bestCost && len(prefix) < len(prefixes[best])) {
			best, bestCost = int32(i), cost
		}
	}
	return best
}

// Len returns the number of exchanges in the graph, including those known
// only from providers lists.
func (g *Graph) Len() int { return len(g.nodes) }

// Hop is one exchange on a path.
type Hop struct {
	Identifier string
	Name       string
	// Dialled holds the digits appended to reach this exchange from the
	// previous one: the previous exchange's self prefix (unless it is the
	// origin) followed by its prefix for this one. Empty for the origin.
	Dialled string
}

// Path is a way to call an extension.
type Path struct {
	// Hops lists the exchanges from the origin to the target, both included.
	Hops []Hop
	// Number is what the caller dials at the origin: the hops' Dialled
	// digits followed by the extension.
	Number    string
	Extension string
	// FirstPeer is the identifier of the exchange the origin hands the call
	// to, empty when the target is the origin itself.
	FirstPeer string
	// Cost is the price of dialling Number under Model, in Model.Unit().
	Cost  int64
	Model CostModel
	// Terminal is the target's listing of the extension, nil when the
	// target's document does not list it (or is unknown).
	Terminal *Extension
}

// Route finds the cheapest number to dial from the exchange from to
// extension on the exchange to. Both are resolved by identifier first, then
// by preferred prefix. The composition follows the hop rule: the origin's
// prefix for the first peer X; to continue from X to X's provider P, X's self
// prefix and X's prefix for P; the extension last. Exchanges without a
// document or without a dialable self prefix can be the target but cannot be
// passed through; exchanges marked unavailable can be neither (the origin
// excepted, since the call starts there).
func (g *Graph) Route(from, to, extension string, model CostModel) (Path, error) {
	return g.RouteAvoiding(from, to, extension, model, nil)
}

// RouteAvoiding is Route with exchanges the path must not enter, named by
// identifier: those a call already came through, so that it does not
// return there. Unknown identifiers are ignored; avoiding the origin has no
// effect, avoiding the target leaves no route.
func (g *Graph) RouteAvoiding(from, to, extension string, model CostModel, avoid []string) (Path, error) {
	req, err := g.prepare(from, to, extension, model)
	if err != nil {
		return Path{}, err
	}
	for _, identifier := range avoid {
		index, ok := g.byIdentifier[identifier]
		if !ok || index == req.origin {
			continue
		}
		if index == req.target {
			return Path{}, fmt.Errorf("mantela: route from %s to %s: the target is to be avoided: %w", from, to, ErrNoRoute)
		}
		if req.avoid == nil {
			req.avoid = make([]bool, len(g.nodes))
		}
		req.avoid[index] = true
	}
	if req.origin == req.target {
		return g.trivialPath(req), nil
	}
	s := g.search(req, noRestriction)
	if s.cost[req.target] < 0 {
		return Path{}, fmt.Errorf("mantela: route from %s to %s: %w", from, to, ErrNoRoute)
	}
	return g.pathTo(req, s), nil
}

// Alternatives returns up to k paths (all when k <= 0), each through a
// different first peer: the best path overall first (the one Route returns),
// then, for every other peer the origin can hand the call to, the cheapest
// path starting with that peer, ordered by cost. This is the set a caller
// wants for fallback when a peer trunk is down, which k shortest simple
// paths would not give: those mostly share the first peer.
func (g *Graph) Alternatives(from, to, extension string, model CostModel, k int) ([]Path, error) {
	best, err := g.Route(from, to, extension, model)
	if err != nil {
		return nil, err
	}
	paths := []Path{best}
	if best.FirstPeer == "" || k == 1 {
		return paths, nil
	}
	req, err := g.prepare(from, to, extension, model)
	if err != nil {
		return nil, err
	}
	var peers []int32
	for _, edge := range g.nodes[req.origin].edges {
		if g.nodes[edge.to].identifier != best.FirstPeer && !slices.Contains(peers, edge.to) {
			peers = append(peers, edge.to)
		}
	}
	var others []Path
	for _, peer := range peers {
		s := g.search(req, peer)
		if s.cost[req.target] >= 0 {
			others = append(others, g.pathTo(req, s))
		}
	}
	slices.SortStableFunc(others, func(a, b Path) int {
		return cmp.Or(cmp.Compare(a.Cost, b.Cost), cmp.Compare(len(a.Number), len(b.Number)),
			strings.Compare(a.FirstPeer, b.FirstPeer))
	})
	paths = append(paths, others...)
	if k > 0 && len(paths) > k {
		paths = paths[:k]
	}
	return paths, nil
}

type routeRequest struct {
	origin, target int32
	extension      string
	extensionCost  int64
	model          CostModel
	// avoid marks exchanges the search must not enter; nil for none.
	avoid []bool
}

func (g *Graph) prepare(from, to, extension string, model CostModel) (routeRequest, error) {
	if !model.valid() {
		return routeRequest{}, fmt.Errorf("mantela: route: cost model %v: %w", model, ErrNotDialable)
	}
	extensionCost, ok := model.DialCost(extension)
	if !ok || extension == "" {
		return routeRequest{}, fmt.Errorf("mantela: route: extension %q under %v: %w", extension, model, ErrNotDialable)
	}
	origin, err := g.resolve(from)
	if err != nil {
		return routeRequest{}, fmt.Errorf("mantela: route from: %w", err)
	}
	target, err := g.resolve(to)
	if err != nil {
		return routeRequest{}, fmt.Errorf("mantela: route to: %w", err)
	}
	if g.nodes[target].unavailable {
		return routeRequest{}, fmt.Errorf("mantela: route to %s: %w", to, ErrExchangeUnavailable)
	}
	return routeRequest{origin: origin, target: target, extension: extension, extensionCost: extensionCost, model: model}, nil
}

// PrefixMatch is an exchange whose preferred prefix begins a dialled
// number.
type PrefixMatch struct {
	Prefix string
	// Identifiers lists every exchange preferring Prefix; more than one
	// makes the prefix ambiguous.
	Identifiers []string
	// Rest is what follows the prefix: the extension, if the match is right.
	Rest string
}

// PrefixMatches lists the preferred prefixes that begin digits and leave at
// least one digit after them, longest first.
func (g *Graph) PrefixMatches(digits string) []PrefixMatch {
	var matches []PrefixMatch
	for n := min(len(digits)-1, g.longestPrefix); n > 0; n-- {
		indexes, ok := g.byPrefix[digits[:n]]
		if !ok {
			continue
		}
		identifiers := make([]string, len(indexes))
		for i, index := range indexes {
			identifiers[i] = g.nodes[index].identifier
		}
		matches = append(matches, PrefixMatch{Prefix: digits[:n], Identifiers: identifiers, Rest: digits[n:]})
	}
	return matches
}

// resolve finds an exchange by identifier, then by preferred prefix.
func (g *Graph) resolve(key string) (int32, error) {
	if index, ok := g.byIdentifier[key]; ok {
		return index, nil
	}
	matches := g.byPrefix[key]
	switch len(matches) {
	case 0:
		return 0, fmt.Errorf("%q: %w", key, ErrUnknownExchange)
	case 1:
		return matches[0], nil
	default:
		identifiers := make([]string, len(matches))
		for i, index := range matches {
			identifiers[i] = g.nodes[index].identifier
		}
		return 0, fmt.Errorf("prefix %q is preferred by %s: %w", key, strings.Join(identifiers, ", "), ErrAmbiguousExchange)
	}
}

func (g *Graph) trivialPath(req routeRequest) Path {
	node := &g.nodes[req.origin]
	return Path{
		Hops:      []Hop{{Identifier: node.identifier, Name: node.name}},
		Number:    req.extension,
		Extension: req.extension,
		Cost:      req.extensionCost,
		Model:     req.model,
		Terminal:  node.extensions[req.extension],
	}
}

// noRestriction lets the search leave the origin through every edge.
const noRestriction int32 = -1

// searchState is Dijkstra's bookkeeping, indexed by node. cost is -1 for
// nodes not reached; digits (the length of the number so far) breaks ties
// so that equal costs prefer shorter numbers.
type searchState struct {
	cost     []int64
	digits   []int64
	prev     []int32
	prevEdge []int32
}

// search runs Dijkstra from the origin until the target is settled. Edge
// costs are positive (a non-empty prefix costs at least one digit or hop),
// so the result is a simple path. When firstPeer is not noRestriction the
// origin may only hand the call to that exchange.
func (g *Graph) search(req routeRequest, firstPeer int32) *searchState {
	n := len(g.nodes)
	s := &searchState{
		cost:     make([]int64, n),
		digits:   make([]int64, n),
		prev:     make([]int32, n),
		prevEdge: make([]int32, n),
	}
	for i := range s.cost {
		s.cost[i] = -1
		s.prev[i] = -1
	}
	done := make([]bool, n)
	s.cost[req.origin] = 0
	queue := priorityQueue{{node: req.origin}}
	for len(queue) > 0 {
		item := queue.pop()
		u := item.node
		if done[u] || item.cost != s.cost[u] || item.digits != s.digits[u] {
			continue
		}
		done[u] = true
		if u == req.target {
			break
		}
		node := &g.nodes[u]
		var hopCost, hopDigits int64
		if u != req.origin {
			if !node.hasDocument || node.unavailable || node.bestSelf[req.model] < 0 {
				continue
			}
			self := node.selfPrefixes[node.bestSelf[req.model]]
			hopCost, _ = req.model.DialCost(self)
			hopDigits = int64(len(self))
		}
		for i := range node.edges {
			edge := &node.edges[i]
			if u == req.origin && firstPeer != noRestriction && edge.to != firstPeer {
				continue
			}
			if edge.cost[req.model] < 0 || done[edge.to] || (req.avoid != nil && req.avoid[edge.to]) {
				continue
			}
			cost := s.cost[u] + hopCost + edge.cost[req.model]
			digits := s.digits[u] + hopDigits + int64(len(edge.prefix))
			v := edge.to
			if s.cost[v] < 0 || cost < s.cost[v] || (cost == s.cost[v] && digits < s.digits[v]) {
				s.cost[v], s.digits[v] = cost, digits
				s.prev[v], s.prevEdge[v] = u, int32(i)
				queue.push(queueItem{node: v, cost: cost, digits: digits})
			}
		}
	}
	return s
}

// pathTo rebuilds the path to the target from the predecessor links.
func (g *Graph) pathTo(req routeRequest, s *searchState) Path {
	var reversed []Hop
	for v := req.target; v != req.origin; v = s.prev[v] {
		u := s.prev[v]
		from := &g.nodes[u]
		dialled := from.edges[s.prevEdge[v]].prefix
		if u != req.origin {
			dialled = from.selfPrefixes[from.bestSelf[req.model]] + dialled
		}
		reversed = append(reversed, Hop{Identifier: g.nodes[v].identifier, Name: g.nodes[v].name, Dialled: dialled})
	}
	originNode := &g.nodes[req.origin]
	hops := make([]Hop, 0, len(reversed)+1)
	hops = append(hops, Hop{Identifier: originNode.identifier, Name: originNode.name})
	var number strings.Builder
	for i := len(reversed) - 1; i >= 0; i-- {
		hops = append(hops, reversed[i])
		number.WriteString(reversed[i].Dialled)
	}
	number.WriteString(req.extension)
	return Path{
		Hops:      hops,
		Number:    number.String(),
		Extension: req.extension,
		FirstPeer: hops[1].Identifier,
		Cost:      s.cost[req.target] + req.extensionCost,
		Model:     req.model,
		Terminal:  g.nodes[req.target].extensions[req.extension],
	}
}

type queueItem struct {
	node   int32
	cost   int64
	digits int64
}

func (a queueItem) less(b queueItem) bool {
	if a.cost != b.cost {
		return a.cost < b.cost
	}
	if a.digits != b.digits {
		return a.digits < b.digits
	}
	return a.node < b.node
}

// priorityQueue is a binary min-heap; written out rather than using
// container/heap to avoid boxing every item in an interface.
type priorityQueue []queueItem

func (q *priorityQueue) push(item queueItem) {
	*q = append(*q, item)
	h := *q
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h[i].less(h[parent]) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (q *priorityQueue) pop() queueItem {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		smallest := i
		left, right := 2*i+1, 2*i+2
		if left < len(h) && h[left].less(h[smallest]) {
			smallest = left
		}
		if right < len(h) && h[right].less(h[smallest]) {
			smallest = right
		}
		if smallest == i {
			break
		}
		h[i], h[smallest] = h[smallest], h[i]
		i = smallest
	}
	*q = h
	return top
}
