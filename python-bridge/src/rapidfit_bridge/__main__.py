from rapidfit_bridge.protocol import serve

if __name__ == "__main__":
    serve()
