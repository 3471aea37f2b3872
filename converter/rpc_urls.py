"""The URLs of a request ``converter.views.rpc.RpcRoutingMiddleware`` found
to be an RPC call: the site root, in Alibaba Cloud's protocol."""

from django.urls import path

from .views import rpc

urlpatterns = [path("", rpc.dispatch, name="rpc")]
