from .jurisdiction import user_posts


def current_posts(request):
    """The signed-in user's posts, for the navigation bar."""
    posts = user_posts(getattr(request, "user", None))
    return {"current_posts": posts, "current_roles": {post.role for post in posts}}
