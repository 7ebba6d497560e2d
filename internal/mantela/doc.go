// Package mantela reads, fetches and routes over Mantela documents, the JSON
// files with which Japanese hobby telephone exchanges describe themselves and
// the exchanges they connect to (github.com/tkytel/mantela, version 0.1.x).
//
// The package has three layers:
//
//   - Parse turns one document into a Document, naming the JSON path of every
//     problem it finds; SchemaValidator checks a document against the
//     community's JSON Schema read from a local directory.
//   - Fetcher walks the network breadth-first from one or more start URLs and
//     returns a Network; DiskCache keeps the last good copy of each document
//     and Refresher repeats the walk on a schedule.
//   - Graph composes the number to dial from one exchange to an extension on
//     another and finds the cheapest one under a CostModel.
//
// FromSite writes kurodenwa's own document from its site file.
package mantela
