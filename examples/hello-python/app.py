def handler(event, context):
    name = event.get("name", "world")
    print(f"greeting {name} in request {context.aws_request_id}")
    return {"message": f"Hello, {name}!"}
