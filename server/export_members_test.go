package server

// ReqMember and MemberRemovePayload let the external tests send a
// membership change by hand.
const ReqMember = reqMember

func MemberRemovePayload(id string) []byte {
	return appendMemberRequest(memberRemove, id, "", "test", "test")
}
