package server

// IdleReadConns is the number of n's read connections that no read holds.
func IdleReadConns(n *Node) int { return n.fsm.IdleReadConns() }
