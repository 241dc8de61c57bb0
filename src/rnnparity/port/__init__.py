"""Ports of Keras recurrent layers to other libraries, checked by the conformance suite like any
target: rnnparity.port.torch (torch.nn.LSTM / GRU / RNN). Each imports its library only when used."""
