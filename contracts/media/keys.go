package media

import "strconv"

// Image sizes, smallest first. "original" is the clean, upright copy of the
// upload, without metadata.
const (
	SizeThumb    = "thumb"
	SizeSmall    = "small"
	SizeMedium   = "medium"
	SizeLarge    = "large"
	SizeOriginal = "original"
)

// Sizes lists every size served. It is a function, so no caller can change
// the list for everyone.
func Sizes() []string {
	return []string{SizeThumb, SizeSmall, SizeMedium, SizeLarge, SizeOriginal}
}

// ValidSize reports whether size is one of Sizes.
func ValidSize(size string) bool {
	switch size {
	case SizeThumb, SizeSmall, SizeMedium, SizeLarge, SizeOriginal:
		return true
	}
	return false
}

// The blob key layout, shared by the post service (which stores uploads and
// serves renditions) and the thumbnailer (which reads the first and writes
// the second). Keys are relative to the images binding's root.

// OriginalKey is where the upload, as received, is stored.
func OriginalKey(postID string) string { return "uploads/" + postID }

// RenditionKey is where the thumbnailer stores a size of a post's image.
func RenditionKey(postID, size string) string { return "renditions/" + postID + "/" + size + ".jpg" }

// Avatar sizes: squares, smallest first.
const (
	AvatarThumb  = "thumb"  // 150×150
	AvatarSmall  = "small"  // 320×320
	AvatarMedium = "medium" // 640×640
)

// AvatarSizes lists every avatar size served.
func AvatarSizes() []string { return []string{AvatarThumb, AvatarSmall, AvatarMedium} }

// ValidAvatarSize reports whether size is one of AvatarSizes.
func ValidAvatarSize(size string) bool {
	switch size {
	case AvatarThumb, AvatarSmall, AvatarMedium:
		return true
	}
	return false
}

// AvatarUploadKey is where an avatar upload, as received, is stored.
func AvatarUploadKey(userID string, version int64) string {
	return "avatars/" + userID + "/" + strconv.FormatInt(version, 10) + "/upload"
}

// AvatarKey is where the thumbnailer stores a size of an avatar.
func AvatarKey(userID string, version int64, size string) string {
	return "avatars/" + userID + "/" + strconv.FormatInt(version, 10) + "/" + size + ".jpg"
}
