"""The classic tutorial pages the playground's learners come from, as readers copy them.

Both teach ``new WebSocket("ws://localhost:9998/echo")`` against pywebsocket's
echo; ``/echo`` here is that echo. The English page is saved as
``ws_client.html``; runoob.com's Chinese version as ``runoob_websocket.html``.
"""

import re

# ruff: noqa: RUF001 (the Chinese page's own full-width punctuation)
TUTORIAL_URL = "ws://localhost:9998/echo"

WS_CLIENT = """<!DOCTYPE HTML>
<html>
   <head>
      <script type="text/javascript">
         function WebSocketTest()
         {
            if ("WebSocket" in window)
            {
               alert("WebSocket is supported by your Browser!");
               // Let us open a web socket
               var ws = new WebSocket("ws://localhost:9998/echo");
               ws.onopen = function()
               {
                  // Web Socket is connected, send data using send()
                  ws.send("Message to send");
                  alert("Message is sent...");
               };
               ws.onmessage = function (evt)
               {
                  var received_msg = evt.data;
                  alert("Message is received...");
               };
               ws.onclose = function()
               {
                  // websocket is closed.
                  alert("Connection is closed...");
               };
            }
            else
            {
               // The browser doesn't support WebSocket
               alert("WebSocket NOT supported by your Browser!");
            }
         }
      </script>
   </head>
   <body>
      <div id="sse">
         <a href="javascript:WebSocketTest()">Run WebSocket</a>
      </div>
   </body>
</html>
"""

RUNOOB_WEBSOCKET = """<!DOCTYPE HTML>
<html>
   <head>
   <meta charset="utf-8">
   <title>菜鸟教程(runoob.com)</title>
      <script type="text/javascript">
         function WebSocketTest()
         {
            if ("WebSocket" in window)
            {
               alert("您的浏览器支持 WebSocket!");
               // 打开一个 web socket
               var ws = new WebSocket("ws://localhost:9998/echo");
               ws.onopen = function()
               {
                  // Web Socket 已连接上，使用 send() 方法发送数据
                  ws.send("发送数据");
                  alert("数据发送中...");
               };
               ws.onmessage = function (evt)
               {
                  var received_msg = evt.data;
                  alert("数据已接收...");
               };
               ws.onclose = function()
               {
                  // 关闭 websocket
                  alert("连接已关闭...");
               };
            }
            else
            {
               // 浏览器不支持 WebSocket
               alert("您的浏览器不支持 WebSocket!");
            }
         }
      </script>
   </head>
   <body>
      <div id="sse">
         <a href="javascript:WebSocketTest()">运行 WebSocket</a>
      </div>
   </body>
</html>
"""

# file name -> (its page, the language it speaks, its link's text)
TUTORIALS = {
    "ws_client.html": (WS_CLIENT, "en", "Run WebSocket"),
    "runoob_websocket.html": (RUNOOB_WEBSOCKET, "zh-Hans", "运行 WebSocket"),
}


def aimed_at(page: str, url: str) -> str:
    """The page with its socket URL changed to ``url``, and nothing else."""
    return page.replace(TUTORIAL_URL, url)


def script_of(page: str) -> str:
    """The page's one inline script."""
    return re.search(r"<script[^>]*>(.*?)</script>", page, flags=re.DOTALL).group(1)
