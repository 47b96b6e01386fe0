package server

// FetchedRestores is n's count of install entries applied with a file it
// fetched from another node, and with another node's state in its place.
func FetchedRestores(n *Node) (files, states uint64) { return n.fsm.Fetched() }
