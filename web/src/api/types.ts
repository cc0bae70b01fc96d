// The shapes of the REST API (see <service>/api/openapi.yaml, merged at
// /openapi.yaml). Fields the API is still gaining are optional here, so the
// client works before and after they land.

export interface Me {
  id: string;
  username: string;
  email: string;
  display_name: string;
  bio: string;
  follower_count: number;
  following_count: number;
  avatar_url?: string;
  /** A new avatar is being made (avatar_url still names the old one). */
  avatar_processing?: boolean;
  created_at: string;
}

export interface Relationship {
  following: boolean;
  followed_by: boolean;
  blocking: boolean;
}

export interface Profile {
  id: string;
  username: string;
  display_name: string;
  bio: string;
  follower_count: number;
  following_count: number;
  avatar_url?: string;
  relationship?: Relationship;
  created_at: string;
}

/** The author of a post, a comment or a like, as lists embed it. */
export interface AuthorSummary {
  id: string;
  username: string;
  display_name: string;
  avatar_url?: string;
}

export interface LoginResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  user: Me;
}

export type Size = 'thumb' | 'small' | 'medium' | 'large' | 'original';

export interface Post {
  id: string;
  author_id: string;
  author?: AuthorSummary;
  caption: string;
  alt_text?: string;
  tags: string[];
  status: 'processing' | 'ready' | 'failed';
  thumbnail_ready: boolean;
  indexed: boolean;
  version: number;
  width?: number;
  height?: number;
  comment_count: number;
  like_count?: number;
  liked?: boolean;
  images: Record<Size, string>;
  created_at: string;
  updated_at: string;
}

export interface Comment {
  id: string;
  post_id: string;
  author_id: string;
  author?: AuthorSummary;
  body: string;
  created_at: string;
  updated_at: string;
}

/** A cursor page: next_cursor is absent on the last page. */
export interface Page<T> {
  items: T[];
  next_cursor?: string;
}

export interface PostSummary {
  id: string;
  author_id: string;
  caption: string;
  tags: string[];
  thumbnail_url: string;
  created_at: string;
}

export interface SearchResult {
  items: PostSummary[];
  total: number;
}

export interface TagCount {
  tag: string;
  count: number;
}
